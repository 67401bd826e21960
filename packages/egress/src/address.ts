import ipaddr from 'ipaddr.js';
import { EgressConfigError } from './errors.js';

/** Cloud metadata endpoints, named in refusals so the reason is plain. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '169.254.170.2']);

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses CIDR exceptions (`10.1.0.0/16`, `::1/128`); throws {@link EgressConfigError}. */
export function parseCidrs(list: readonly string[]): Cidr[] {
  return list.map((c) => {
    try {
      return ipaddr.parseCIDR(c);
    } catch {
      throw new EgressConfigError(`allowAddresses: "${c}" is not a CIDR range`);
    }
  });
}

/** Canonical text of an IP literal (IPv4-mapped IPv6 folded to IPv4), or null. */
export function canonicalIp(text: string): string | null {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(t)) return null;
  // ipaddr.isValid accepts legacy forms like "0x7f.1" and "127.1": treat only strict literals as IPs.
  if (!t.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(t)) return null;
  return ipaddr.process(t).toString();
}

/** True when `text` looks like an IPv4 address in a legacy form (`127.1`, `0x7f.0.0.1`, `2130706433`). */
export function isLegacyIpv4(text: string): boolean {
  return !text.includes(':') && ipaddr.IPv4.isValid(text) && !ipaddr.IPv4.isValidFourPartDecimal(text);
}

/**
 * Why `ip` must not be connected to, or null when it is an ordinary public unicast address or
 * inside one of the `allowed` CIDR exceptions. Anything that is not plain public unicast is
 * refused: loopback, private, link-local (and the metadata endpoints), CGNAT, multicast,
 * unspecified, reserved, unique-local, IPv4-mapped/translated forms of those, 6to4 and Teredo.
 */
export function addressRefusal(ip: string, allowed: readonly Cidr[] = []): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return 'not an IP address';
  }
  for (const [net, bits] of allowed) {
    if (net.kind() === addr.kind() && addr.match(net, bits)) return null;
  }
  const text = addr.toString();
  if (METADATA.has(text)) return `cloud metadata address ${text}`;
  const range = addr.range();
  if (range === 'unicast') return null;
  return `${range} address ${text}`;
}
