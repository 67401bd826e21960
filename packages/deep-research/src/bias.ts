import * as z from '@codex/security-profile/zod';
import { DomainBlockedError } from './errors.js';
import { parseOptions } from './options.js';

const domainPattern = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .trim()
      .toLowerCase()
      .replace(/^\*\./, '')
      .replace(/^www\./, '')
      .replace(/\.$/, ''),
  );

export const domainListsSchema = z
  .object({
    /** When non-empty, only these domains (and their subdomains) are used. */
    allow: z.array(domainPattern).default([]),
    /** These domains (and their subdomains) are never used. Block wins over allow. */
    block: z.array(domainPattern).default([]),
  })
  .strict();
export type DomainListsInput = z.input<typeof domainListsSchema>;

export const biasOptionsSchema = z
  .object({
    /** Warn when one domain holds more than this share of the sources. Default 0.3 (the plan's 30 %). */
    maxDomainShare: z.number().gt(0).max(1).default(0.3),
    /** Warn when fewer distinct domains than this back the report (only if there are that many sources). Default 3. */
    minDistinctDomains: z.number().int().min(1).default(3),
  })
  .strict();
export type BiasOptionsInput = z.input<typeof biasOptionsSchema>;

/**
 * The domain a source counts for: the host name without a leading `www.`, lower-cased. Local files
 * (`file:` URLs) count as `local:<first folder under the corpus>` when `corpusRoot` is given, else
 * `local:<parent folder>`, so one folder dominating a corpus is reported like one site would be.
 */
export function domainOf(url: string, corpusRoot?: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'invalid';
  }
  if (u.protocol === 'file:') {
    const path = decodeURIComponent(u.pathname);
    if (corpusRoot !== undefined) {
      const root = corpusRoot.endsWith('/') ? corpusRoot : `${corpusRoot}/`;
      if (path.startsWith(root)) {
        const rest = path.slice(root.length).split('/');
        return `local:${rest.length > 1 ? rest[0] : '.'}`;
      }
    }
    const parts = path.split('/').filter(Boolean);
    return `local:${parts[parts.length - 2] ?? '.'}`;
  }
  return u.hostname
    .toLowerCase()
    .replace(/^www\./, '')
    .replace(/\.$/, '');
}

/** True when `domain` is `pattern` or a subdomain of it. */
export function matchesDomain(domain: string, pattern: string): boolean {
  return domain === pattern || domain.endsWith(`.${pattern}`);
}

/** Throws {@link DomainBlockedError} when the URL's domain is blocked or outside a non-empty allow list. */
export function checkDomain(url: string, lists?: DomainListsInput): void {
  if (!lists) return;
  const { allow, block } = parseOptions(domainListsSchema, lists, 'domain lists');
  const domain = domainOf(url);
  const blocked = block.find((p) => matchesDomain(domain, p));
  if (blocked) throw new DomainBlockedError(url, `domain ${domain} is on the block list (${blocked})`);
  if (allow.length > 0 && !allow.some((p) => matchesDomain(domain, p))) {
    throw new DomainBlockedError(url, `domain ${domain} is not on the allow list`);
  }
}

export interface DomainShare {
  readonly domain: string;
  readonly count: number;
  readonly share: number;
}

export interface BiasReport {
  readonly sources: number;
  readonly domains: DomainShare[];
  /**
   * Source diversity in [0, 1]: Shannon entropy of the domain distribution divided by its maximum
   * for this many sources, ln(sources). 1 = every source from a different domain, 0 = all from one.
   */
  readonly diversity: number;
  /** exp(entropy): the "effective number" of domains. */
  readonly effectiveDomains: number;
  readonly warnings: string[];
}

/** Domain shares, diversity score and warnings for the domains of the sources actually used. */
export function assessBias(domains: readonly string[], options?: BiasOptionsInput): BiasReport {
  const o = parseOptions(biasOptionsSchema, options, 'bias options');
  const n = domains.length;
  const counts = new Map<string, number>();
  for (const d of domains) counts.set(d, (counts.get(d) ?? 0) + 1);
  const shares = [...counts]
    .map(([domain, count]) => ({ domain, count, share: n === 0 ? 0 : count / n }))
    .sort((a, b) => b.count - a.count || a.domain.localeCompare(b.domain));
  let entropy = 0;
  for (const s of shares) if (s.share > 0) entropy -= s.share * Math.log(s.share);
  const diversity = n <= 1 ? 0 : entropy / Math.log(n);
  const warnings: string[] = [];
  for (const s of shares) {
    if (s.share > o.maxDomainShare) {
      warnings.push(
        `${s.domain} provides ${s.count} of ${n} sources (${pct(s.share)}), above the ${pct(o.maxDomainShare)} threshold`,
      );
    }
  }
  if (n >= o.minDistinctDomains && counts.size < o.minDistinctDomains) {
    warnings.push(`only ${counts.size} distinct domain${counts.size === 1 ? '' : 's'} among ${n} sources`);
  }
  return { sources: n, domains: shares, diversity, effectiveDomains: Math.exp(entropy), warnings };
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}
