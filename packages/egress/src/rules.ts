import { egressPatternProblem, expandEgressPatterns } from '@codex/security-profile';
import { canonicalIp } from './address.js';
import { EgressConfigError } from './errors.js';

/** A compiled host list: exact names, `*.suffix` suffixes, IP literals, and `*`. */
export interface HostList {
  readonly any: boolean;
  readonly exact: ReadonlySet<string>;
  readonly suffixes: readonly string[];
  readonly patterns: readonly string[];
}

/** Compiles allow/deny entries (presets expanded); throws {@link EgressConfigError} on a bad entry. */
export function compileHostList(name: string, entries: readonly string[]): HostList {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  let any = false;
  for (const raw of entries) {
    const problem = egressPatternProblem(raw);
    if (problem) throw new EgressConfigError(`${name} entry "${raw}": ${problem}`);
  }
  const patterns = expandEgressPatterns(entries);
  for (const p of patterns) {
    if (p === '*') any = true;
    else if (p.startsWith('*.')) suffixes.push(p.slice(1));
    else exact.add(canonicalIp(p) ?? p);
  }
  return { any, exact, suffixes, patterns };
}

/** The entry of `list` that matches `host` (already normalised), or null. */
export function matchHost(list: HostList, host: string): string | null {
  if (list.exact.has(host)) return host;
  for (const s of list.suffixes) if (host.endsWith(s) && host.length > s.length) return `*${s}`;
  if (list.any) return '*';
  return null;
}

/**
 * Normalises a host from a request: lower case, no trailing dot, brackets removed from IPv6
 * literals, IP literals canonical. Returns null for anything that is not a plausible host name
 * or IP literal (empty, spaces, control characters, non-ASCII, legacy IPv4 spellings).
 */
export function normaliseHost(host: string): string | null {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) return null;
  const ip = canonicalIp(h);
  if (ip !== null) return ip;
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(h)) return null;
  // All-numeric labels in the last position are an IPv4 in a legacy spelling (127.1, 2130706433).
  if (/^[0-9.]+$/.test(h) || /^0x[0-9a-f]+$/.test(h.split('.').pop() ?? '')) return null;
  return h;
}
