import { describe, expect, it } from 'vitest';
import { FINDING_CAUSES } from '../src/index.js';
import { ctx, defaultEngine } from './helpers.js';

/** The structured "why" of a decision, which `@codex/core`'s approval modes build on. */
describe('Evaluation.causes', () => {
  it('an unknown program is prompt with cause unknown-command only', async () => {
    const e = await defaultEngine();
    const r = e.evaluate(['frobnicate', '--all'], ctx('offline'));
    expect(r.decision).toBe('prompt');
    expect(r.causes).toEqual(['unknown-command']);
    expect(r.segments[0]!.causes).toEqual(['unknown-command']);
  });

  it('a known program with arguments no rule lists is unlisted-arguments', async () => {
    const e = await defaultEngine();
    const r = e.evaluate(['git', 'frobnicate'], ctx('offline'));
    expect(r.decision).toBe('prompt');
    expect(r.causes).toEqual(['unlisted-arguments']);
  });

  it('network use under a no-network profile is cause network, not unknown', async () => {
    const e = await defaultEngine();
    const r = e.evaluate(['curl', 'https://example.com'], ctx('offline'));
    expect(r.decision).toBe('prompt');
    expect(r.causes).toContain('network');
    expect(r.causes).not.toContain('unknown-command');
  });

  it('an unknown program that also writes outside the roots is decided by the write', async () => {
    const e = await defaultEngine();
    const r = e.evaluate({ script: 'frobnicate > /tmp/outside.txt' }, ctx('workspace-write'));
    expect(r.decision).toBe('forbidden');
    expect(r.causes).toEqual(['write']);
    const unresolved = e.evaluate({ script: 'frobnicate > "$OUT"' }, ctx('workspace-write'));
    expect(unresolved.decision).toBe('prompt');
    expect(unresolved.causes).toEqual(expect.arrayContaining(['unknown-command', 'write']));
  });

  it('a script mixes causes over its prompt segments; allowed segments add none', async () => {
    const e = await defaultEngine();
    const r = e.evaluate({ script: 'ls && frobnicate && curl https://example.com' }, ctx('offline'));
    expect(r.decision).toBe('prompt');
    expect(r.causes).toEqual(expect.arrayContaining(['unknown-command', 'network']));
    const allowed = e.evaluate(['ls'], ctx('offline'));
    expect(allowed.decision).toBe('allow');
    expect(allowed.causes).toEqual(['rule']);
  });

  it('non-literal command names and parser problems are other', async () => {
    const e = await defaultEngine();
    const r = e.evaluate({ script: '$CMD --x' }, ctx('offline'));
    expect(r.decision).toBe('prompt');
    expect(r.causes).toEqual(['other']);
    for (const s of r.segments) expect(s.causes).toHaveLength(s.reasons.length);
    expect(FINDING_CAUSES).toContain('other');
  });
});
