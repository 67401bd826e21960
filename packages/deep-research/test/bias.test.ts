import { describe, expect, it } from 'vitest';
import { assessBias, checkDomain, DomainBlockedError, domainOf, matchesDomain } from '../src/index.js';

describe('domainOf', () => {
  it('lower-cases hosts and drops www.', () => {
    expect(domainOf('https://WWW.Debian.org/doc/')).toBe('debian.org');
    expect(domainOf('http://127.0.0.1:8080/x')).toBe('127.0.0.1');
    expect(domainOf('file:///corpus/manuals/a.txt', '/corpus')).toBe('local:manuals');
    expect(domainOf('file:///corpus/a.txt', '/corpus')).toBe('local:.');
    expect(domainOf('not a url')).toBe('invalid');
  });

  it('matches subdomains but not look-alikes', () => {
    expect(matchesDomain('wiki.debian.org', 'debian.org')).toBe(true);
    expect(matchesDomain('notdebian.org', 'debian.org')).toBe(false);
  });
});

describe('assessBias', () => {
  const domains = (spec: Record<string, number>) =>
    Object.entries(spec).flatMap(([d, n]) => Array(n).fill(d));

  it('warns when one domain holds more than 30 % of the sources', () => {
    const r = assessBias(domains({ 'a.org': 4, 'b.org': 3, 'c.org': 3 }));
    expect(r.warnings).toEqual(['a.org provides 4 of 10 sources (40 %), above the 30 % threshold']);
    expect(r.domains[0]).toEqual({ domain: 'a.org', count: 4, share: 0.4 });
  });

  it('exactly 30 % is not above the threshold; the threshold is configurable', () => {
    const d = domains({ 'a.org': 3, 'b.org': 3, 'c.org': 2, 'd.org': 2 });
    expect(assessBias(d).warnings).toEqual([]);
    expect(assessBias(d, { maxDomainShare: 0.25 }).warnings).toHaveLength(2);
    expect(() => assessBias(d, { maxDomainShare: 0 })).toThrow(/bias options: maxDomainShare/);
  });

  it('diversity is 1 when every source has its own domain, 0 when all share one', () => {
    expect(assessBias(['a', 'b', 'c', 'd']).diversity).toBeCloseTo(1, 10);
    const one = assessBias(['a', 'a', 'a', 'a']);
    expect(one.diversity).toBe(0);
    expect(one.effectiveDomains).toBe(1);
    expect(one.warnings).toContain('only 1 distinct domain among 4 sources');
    const mixed = assessBias(domains({ a: 2, b: 1, c: 1 }));
    expect(mixed.diversity).toBeGreaterThan(0.7);
    expect(mixed.diversity).toBeLessThan(1);
  });
});

describe('checkDomain (allow and block lists)', () => {
  it('block wins, subdomains included', () => {
    expect(() => checkDomain('https://ads.spam.example/x', { block: ['spam.example'] })).toThrow(
      DomainBlockedError,
    );
    expect(() => checkDomain('https://ok.example/x', { block: ['spam.example'] })).not.toThrow();
    expect(() =>
      checkDomain('https://debian.org/x', { allow: ['debian.org'], block: ['debian.org'] }),
    ).toThrow(/block list/);
  });

  it('a non-empty allow list admits only its domains', () => {
    expect(() => checkDomain('https://wiki.debian.org/x', { allow: ['*.debian.org'] })).not.toThrow();
    const err = (() => {
      try {
        checkDomain('https://example.com/', { allow: ['debian.org'] });
      } catch (e) {
        return e as DomainBlockedError;
      }
    })();
    expect(err?.code).toBe('RESEARCH_DOMAIN_BLOCKED');
    expect(err?.message).toMatch(/not on the allow list/);
  });
});
