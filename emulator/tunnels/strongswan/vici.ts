/**
 * A minimal client for strongSwan's VICI protocol (the versatile IKE control interface charon
 * serves on a unix socket). Talking VICI directly, instead of spawning `swanctl` per command,
 * keeps a replica's bring-up to a handful of socket writes and lets the driver follow tunnel
 * state through pushed events (`ike-updown`, `child-updown`, `log`) rather than polling.
 *
 * Wire format (strongSwan's src/libcharon/plugins/vici/README.md): every packet is a 32-bit
 * big-endian length, a type byte, for named types a length-prefixed name, then a message made of
 * section/key-value/list elements. Requests on one connection are answered strictly in order;
 * events may arrive between them.
 */
import net from 'node:net';

export type ViciValue = string | string[] | ViciSection;
export interface ViciSection {
  [key: string]: ViciValue;
}

const PacketType = {
  CmdRequest: 0,
  CmdResponse: 1,
  CmdUnknown: 2,
  EventRegister: 3,
  EventUnregister: 4,
  EventConfirm: 5,
  EventUnknown: 6,
  Event: 7,
} as const;
type PacketType = (typeof PacketType)[keyof typeof PacketType];

const Element = {
  SectionStart: 1,
  SectionEnd: 2,
  KeyValue: 3,
  ListStart: 4,
  ListItem: 5,
  ListEnd: 6,
} as const;

export function encodeMessage(message: ViciSection): Buffer {
  const parts: Buffer[] = [];
  const name = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > 255) throw new Error(`vici: name too long: ${text.slice(0, 40)}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  };
  const value = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    parts.push(length, bytes);
  };
  const section = (content: ViciSection) => {
    for (const [key, item] of Object.entries(content)) {
      if (typeof item === 'string') {
        parts.push(Buffer.from([Element.KeyValue]));
        name(key);
        value(item);
      } else if (Array.isArray(item)) {
        parts.push(Buffer.from([Element.ListStart]));
        name(key);
        for (const entry of item) {
          parts.push(Buffer.from([Element.ListItem]));
          value(entry);
        }
        parts.push(Buffer.from([Element.ListEnd]));
      } else {
        parts.push(Buffer.from([Element.SectionStart]));
        name(key);
        section(item);
        parts.push(Buffer.from([Element.SectionEnd]));
      }
    }
  };
  section(message);
  return Buffer.concat(parts);
}

export function decodeMessage(buffer: Buffer): ViciSection {
  let offset = 0;
  const readName = () => {
    const length = buffer.readUInt8(offset);
    const text = buffer.toString('utf8', offset + 1, offset + 1 + length);
    offset += 1 + length;
    return text;
  };
  const readValue = () => {
    const length = buffer.readUInt16BE(offset);
    const text = buffer.toString('utf8', offset + 2, offset + 2 + length);
    offset += 2 + length;
    return text;
  };
  const root: ViciSection = {};
  const stack: ViciSection[] = [root];
  let list: string[] | undefined;
  while (offset < buffer.length) {
    const element = buffer.readUInt8(offset++);
    const current = stack[stack.length - 1] ?? root;
    switch (element) {
      case Element.SectionStart: {
        const child: ViciSection = {};
        current[readName()] = child;
        stack.push(child);
        break;
      }
      case Element.SectionEnd:
        stack.pop();
        break;
      case Element.KeyValue: {
        const key = readName();
        current[key] = readValue();
        break;
      }
      case Element.ListStart:
        list = [];
        current[readName()] = list;
        break;
      case Element.ListItem:
        list?.push(readValue());
        break;
      case Element.ListEnd:
        list = undefined;
        break;
      default:
        throw new Error(`vici: unknown message element ${element} at offset ${offset - 1}`);
    }
  }
  return root;
}

function packet(type: PacketType, name: string | undefined, message?: ViciSection): Buffer {
  const head = [Buffer.from([type])];
  if (name !== undefined) head.push(Buffer.from([Buffer.byteLength(name)]), Buffer.from(name));
  const body = Buffer.concat([...head, message ? encodeMessage(message) : Buffer.alloc(0)]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

interface Pending {
  resolve(message: ViciSection): void;
  reject(error: Error): void;
  what: string;
}

export type EventHandler = (event: string, message: ViciSection) => void;

/** One VICI connection. Commands are serialised; events go to `onEvent`. */
export class ViciClient {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private closed = false;
  private readonly listeners = new Set<EventHandler>();

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('close', () => this.fail(new Error('vici: connection closed')));
    socket.on('error', (error) => this.fail(error));
  }

  static connect(path: string, timeoutMs = 2000): Promise<ViciClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`vici: connecting to ${path} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new ViciClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  onEvent(handler: EventHandler): void {
    this.listeners.add(handler);
  }

  /** Sends a command and resolves with its response; a `success: no` answer is returned, not thrown. */
  request(command: string, message?: ViciSection): Promise<ViciSection> {
    return this.send(packet(PacketType.CmdRequest, command, message), `command ${command}`);
  }

  register(event: string): Promise<ViciSection> {
    return this.send(packet(PacketType.EventRegister, event), `register ${event}`);
  }

  /** A command whose results stream as `event` packets before the final response (list-sas, ...). */
  async stream(command: string, event: string, message?: ViciSection): Promise<ViciSection[]> {
    const items: ViciSection[] = [];
    const collect: EventHandler = (name, item) => {
      if (name === event) items.push(item);
    };
    this.listeners.add(collect);
    try {
      await this.register(event);
      await this.request(command, message);
      await this.send(packet(PacketType.EventUnregister, event), `unregister ${event}`);
    } finally {
      this.listeners.delete(collect);
    }
    return items;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private send(data: Buffer, what: string): Promise<ViciSection> {
    if (this.closed) return Promise.reject(new Error(`vici: ${what} on a closed connection`));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, what });
      this.socket.write(data);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0);
      if (this.buffered.length < 4 + length) return;
      const body = this.buffered.subarray(4, 4 + length);
      this.buffered = this.buffered.subarray(4 + length);
      this.dispatch(body);
    }
  }

  private dispatch(body: Buffer): void {
    const type = body.readUInt8(0);
    if (type === PacketType.Event) {
      const nameLength = body.readUInt8(1);
      const name = body.toString('utf8', 2, 2 + nameLength);
      const message = decodeMessage(body.subarray(2 + nameLength));
      for (const listener of this.listeners) listener(name, message);
      return;
    }
    const waiting = this.pending.shift();
    if (!waiting) return;
    if (type === PacketType.CmdUnknown || type === PacketType.EventUnknown) {
      waiting.reject(new Error(`vici: charon does not know ${waiting.what}`));
    } else if (type === PacketType.CmdResponse) {
      waiting.resolve(decodeMessage(body.subarray(1)));
    } else {
      waiting.resolve({});
    }
  }

  private fail(error: Error): void {
    this.closed = true;
    for (const waiting of this.pending.splice(0)) waiting.reject(error);
  }
}
