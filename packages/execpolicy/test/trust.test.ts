import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approvalPrefix,
  approvalPrefixes,
  createPolicyEngine,
  isPolicyTrusted,
  policyDigest,
  sha256Hex,
} from '../src/index.js';
import { ctx, defaultEngine } from './helpers.js';

describe('trust pins for project policy layers', () => {
  it('sha256Hex equals node:crypto for any bytes (including block-boundary lengths)', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31) & 255);
      expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        (b) => sha256Hex(b) === createHash('sha256').update(b).digest('hex'),
      ),
      { numRuns: 100, seed: 9 },
    );
  }, 60_000);

  it('a pin matches only the exact content', () => {
    const text = '[[rule]]\nid = "x"\nprefix = ["npm", "test"]\ndecision = "allow"\njustification = "j"\n';
    const pin = policyDigest(text);
    expect(pin).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(isPolicyTrusted(text, [pin])).toBe(true);
    expect(isPolicyTrusted(text, [pin.toUpperCase().replace('SHA256', 'sha256')])).toBe(true);
    expect(isPolicyTrusted(`${text} `, [pin])).toBe(false);
    expect(isPolicyTrusted(text.replace('test', 'tesT'), [pin])).toBe(false);
    expect(isPolicyTrusted(text, [])).toBe(false);
  });

  it('an untrusted project layer cannot loosen; the same text trusted by pin can', async () => {
    const text = '[[rule]]\nid = "npm"\nprefix = ["npm", "test"]\ndecision = "allow"\njustification = "j"\n';
    const pins = [policyDigest(text)];
    const untrusted = await createPolicyEngine({ layers: [{ kind: 'project', source: 'p', policy: text }] });
    const trusted = await createPolicyEngine({
      layers: [{ kind: 'project', source: 'p', policy: text, trusted: isPolicyTrusted(text, pins) }],
    });
    const edited = `${text}# agent edit\n`;
    const stale = await createPolicyEngine({
      layers: [{ kind: 'project', source: 'p', policy: edited, trusted: isPolicyTrusted(edited, pins) }],
    });
    expect(untrusted.evaluate(['npm', 'test'], ctx('offline')).decision).toBe('prompt');
    expect(trusted.evaluate(['npm', 'test'], ctx('offline')).decision).toBe('allow');
    expect(stale.evaluate(['npm', 'test'], ctx('offline')).decision).toBe('prompt');
  });
});

describe('approvals are saved as the narrowest prefix the user saw', () => {
  it('every word is kept and matched exactly; re: words cannot widen the rule', async () => {
    expect(approvalPrefix(['rg', '--pre=x', 'foo'])).toEqual(['rg', '--pre=x', 'foo']);
    const p = approvalPrefix(['grep', 're:.*']);
    const engine = await createPolicyEngine({
      layers: [
        {
          kind: 'user',
          source: 'approved',
          policy: { rule: [{ id: 'a1', prefix: p, decision: 'allow', justification: 'approved' }] },
        },
      ],
    });
    expect(engine.evaluate(['grep', 're:.*'], ctx('offline')).decision).toBe('allow');
  });

  it('an approval covers the risky option it spells out, and only that command', async () => {
    const first = (await defaultEngine()).evaluate(['rg', '--pre=./x', 'foo'], ctx('offline'));
    expect(first.decision).toBe('prompt');
    const [prefix] = approvalPrefixes(first);
    expect(prefix).toEqual(['rg', '--pre=./x', 'foo']);
    const engine = await createPolicyEngine({
      layers: [
        {
          kind: 'user',
          source: 'approved',
          policy: { rule: [{ id: 'a1', prefix: prefix!, decision: 'allow', justification: 'approved' }] },
        },
      ],
    });
    expect(engine.evaluate(['rg', '--pre=./x', 'foo'], ctx('offline')).decision).toBe('allow');
    expect(engine.evaluate(['rg', '--pre=./y', 'foo'], ctx('offline')).decision).toBe('prompt');
    expect(engine.evaluate(['rg', '--pre=./x', 'foo', '--hostname-bin=z'], ctx('offline')).decision).toBe(
      'prompt',
    );
  });
});

describe('policyDigest hashes UTF-8 like TextEncoder', () => {
  it('for any string, including astral and lone surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        expect(policyDigest(s)).toBe(
          `sha256:${createHash('sha256').update(new TextEncoder().encode(s)).digest('hex')}`,
        );
      }),
      { numRuns: 100, seed: 10 },
    );
  }, 60_000);
});
