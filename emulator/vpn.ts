/**
 * VPN config validation, as the dashboard does it before storing a config (Codesphere's VPN
 * documentation): a name, a non-empty PSK, IKEv1 or IKEv2, known cipher suites, lifetimes, a
 * public peer IP, and peer subnets in CIDR that never include 0.0.0.0/0 (that would route all of
 * the workspace's traffic into the tunnel and cut it off from the platform).
 */
import { z } from 'zod';
import type { VpnConfig } from './tunnels/driver.js';
import { nonPublicReason, parseCidr, parseIpv4 } from './net.js';

/** strongSwan proposal keywords the emulator understands: encryption, integrity/PRF, DH group. */
const ENCRYPTION = new Set([
  '3des',
  'aes128',
  'aes192',
  'aes256',
  'aes128gcm16',
  'aes192gcm16',
  'aes256gcm16',
  'aes128ctr',
  'aes256ctr',
  'chacha20poly1305',
]);
const INTEGRITY = new Set(['md5', 'sha1', 'sha256', 'sha384', 'sha512', 'aesxcbc', 'prfsha1', 'prfsha256']);
const DH_GROUPS = new Set([
  'modp768',
  'modp1024',
  'modp1536',
  'modp2048',
  'modp3072',
  'modp4096',
  'modp6144',
  'modp8192',
  'ecp256',
  'ecp384',
  'ecp521',
  'curve25519',
  'x25519',
  'curve448',
  'x448',
]);

/** Why a proposal string is not a known strongSwan suite, or undefined when it is fine. */
export function proposalProblem(proposal: string): string | undefined {
  const parts = proposal.trim().toLowerCase().split('-');
  if (parts.length < 2 || parts.some((part) => part === '')) {
    return `'${proposal}' is not a cipher suite (expected e.g. aes256-sha256-modp2048)`;
  }
  const unknown = parts.filter(
    (part) => !ENCRYPTION.has(part) && !INTEGRITY.has(part) && !DH_GROUPS.has(part),
  );
  if (unknown.length > 0) return `'${proposal}' has unknown algorithm(s): ${unknown.join(', ')}`;
  if (!parts.some((part) => ENCRYPTION.has(part))) return `'${proposal}' names no encryption algorithm`;
  return undefined;
}

const lifetime = z
  .int()
  .min(60)
  .max(86_400 * 7);

export const vpnConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 letters, digits, "_", "." or "-"'),
    ikeVersion: z.enum(['ikev1', 'ikev2']),
    psk: z.string().min(1, 'must not be empty'),
    ikeProposal: z.string(),
    espProposal: z.string(),
    ikeLifetime: lifetime.default(28_800),
    espLifetime: lifetime.default(3_600),
    peerIp: z.string(),
    peerSubnets: z.array(z.string()).min(1, 'needs at least one subnet'),
  })
  .superRefine((config, ctx) => {
    for (const key of ['ikeProposal', 'espProposal'] as const) {
      const problem = proposalProblem(config[key]);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
    const peer = parseIpv4(config.peerIp);
    if (peer === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['peerIp'],
        message: `'${config.peerIp}' is not an IPv4 address`,
      });
    } else {
      const reason = nonPublicReason(peer);
      if (reason) ctx.addIssue({ code: 'custom', path: ['peerIp'], message: `must be public: ${reason}` });
    }
    config.peerSubnets.forEach((subnet, index) => {
      const parsed = parseCidr(subnet);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', path: ['peerSubnets', index], message: parsed });
      } else if (parsed.prefix === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['peerSubnets', index],
          message: `${subnet} would route all traffic through the tunnel and cut the workspace off from the platform`,
        });
      }
    });
  });

export type VpnConfigInput = z.input<typeof vpnConfigSchema>;

/** Validates a VPN config; returns it normalised, or the list of reasons it was refused. */
export function validateVpnConfig(input: unknown): { config: VpnConfig } | { problems: string[] } {
  const result = vpnConfigSchema.safeParse(input);
  if (result.success) {
    const config = result.data;
    return {
      config: {
        ...config,
        ikeProposal: config.ikeProposal.toLowerCase(),
        espProposal: config.espProposal.toLowerCase(),
        peerSubnets: config.peerSubnets.map((s) => (parseCidr(s) as { text: string }).text),
      },
    };
  }
  return { problems: result.error.issues.map(describeIssue) };
}

/** "field.path: message", the format every 400 of the emulator uses to name the field. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  const missing = /^Invalid input: expected (\w+), received undefined$/.exec(issue.message);
  const message = missing ? `is required (expected ${missing[1]})` : issue.message;
  return field ? `${field}: ${message}` : message;
}
