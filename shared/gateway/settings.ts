/**
 * The VPN config settings the gateway helper works from: what a team's Codesphere VPN config holds
 * (name, IKE version, PSK, suites, lifetimes, peer IP and subnets) plus how many tunnels the gateway
 * must serve (`replicas`: every replica of every attached workspace opens its own). Read from a YAML
 * or JSON file; one zod schema, every problem reported per field with what is valid.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseCidr, parseIpv4 } from './ipv4.js';

/** "8h", "30m", "3600s", "3600" or 3600 -> seconds (strongSwan's duration syntax). */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(value);
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : undefined;
}

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `'${value}' is not a duration (seconds, or a number with s, m, h or d)`,
    });
    return z.NEVER;
  }
  return seconds;
});

const proposal = z
  .string()
  .regex(/^[a-z0-9_]+(-[a-z0-9_]+)+$/i, 'expected a strongSwan proposal such as aes256-sha256-modp2048')
  .transform((p) => p.toLowerCase());

const ipv4 = z
  .string()
  .refine((text) => parseIpv4(text) !== undefined, 'expected an IPv4 address such as 198.51.100.1');

const subnet = z.string().superRefine((text, ctx) => {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') ctx.addIssue({ code: 'custom', message: cidr });
  else if (cidr.prefix === 0)
    ctx.addIssue({ code: 'custom', message: '0.0.0.0/0 would route all traffic through the tunnel' });
});

export const VpnSettingsSchema = z.object({
  name: z.string().min(1, 'the VPN config needs a name'),
  ikeVersion: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(['ikev1', 'ikev2'], { error: 'expected ikev1 or ikev2' })),
  /** Omit (or leave empty) to print a placeholder and to skip comparing the key itself. */
  psk: z.string().optional(),
  ikeProposal: proposal,
  espProposal: proposal,
  ikeLifetime: duration.default(28800),
  espLifetime: duration.default(3600),
  peerIp: ipv4,
  peerSubnets: z.array(subnet).min(1, 'at least one peer subnet (CIDR) is needed'),
  /** Tunnels the gateway must serve at once: replicas of all workspaces attached to this config. */
  replicas: z.number().int().min(1).default(1),
  /** The virtual-IP pool to print (rightsourceip); a /24 in 10.200.0.0 when absent. */
  pool: z.string().optional(),
});

export type VpnSettings = z.output<typeof VpnSettingsSchema>;

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** Parses settings from YAML or JSON text; `source` names the file in error messages. */
export function parseVpnSettings(text: string, source: string): VpnSettings {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new SettingsError(`${source}: not valid YAML/JSON: ${(error as Error).message}`);
  }
  const result = VpnSettingsSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new SettingsError(`${source}: invalid VPN config settings:\n${problems.join('\n')}`);
  }
  return result.data;
}
