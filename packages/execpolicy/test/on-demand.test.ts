import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createPolicyEngine,
  ParserNotLoadedError,
  type PolicyEngine,
  PolicyExampleError,
} from '../src/index.js';
import { BYPASS_CORPUS } from './corpus.js';
import { script as generatedScript } from './generator.js';
import { ctx, defaultEngine } from './helpers.js';

/**
 * `parser: 'on-demand'`: argv and scripts the fast path reads are decided without loading the
 * bash parser; anything else loads it on first use (evaluateAsync) and is decided exactly as an
 * eager engine decides it.
 */
const ARGV: string[][] = [
  ['true'],
  ['ls', '-la'],
  ['git', 'status'],
  ['rm', '-rf', '/'],
  ['curl', 'https://example.com'],
  ['bash', '-lc', 'ls | wc -l'],
  ['sh', '-c', 'git status && ls -la src | wc -l'],
];
const FAST = ['git status && ls -la src | wc -l', 'cat x > out.txt', 'echo $(date)', 'npm test'];
const NEEDS_PARSER = [
  'for f in *.ts; do echo "$f"; done',
  'if true; then rm -rf ~; fi',
  'FOO=1 make',
  'echo a\\ b > /etc/hosts',
  'bash -c "for i in 1 2; do curl x; done"',
];

function parserLoaded(engine: PolicyEngine): boolean {
  return (engine as unknown as { parser: unknown }).parser !== undefined;
}

describe("createPolicyEngine({ parser: 'on-demand' })", () => {
  it('decides argv and fast-path scripts synchronously without loading the parser, as an eager engine does', async () => {
    const eager = await defaultEngine();
    const lazy = await createPolicyEngine({ parser: 'on-demand' });
    expect(parserLoaded(lazy)).toBe(false);
    for (const profile of ['offline', 'workspace-write', 'trusted']) {
      for (const argv of ARGV)
        expect(lazy.evaluate(argv, ctx(profile))).toEqual(eager.evaluate(argv, ctx(profile)));
      for (const script of FAST)
        expect(lazy.evaluate({ script }, ctx(profile))).toEqual(eager.evaluate({ script }, ctx(profile)));
    }
    expect(parserLoaded(lazy)).toBe(false);
    expect(parserLoaded(eager)).toBe(true);
  });

  it('a script that needs the parser: evaluate throws PARSER_NOT_LOADED, evaluateAsync loads it and agrees with eager', async () => {
    const eager = await defaultEngine();
    for (const script of NEEDS_PARSER) {
      const lazy = await createPolicyEngine({ parser: 'on-demand' });
      expect(() => lazy.evaluate({ script }, ctx('workspace-write'))).toThrow(ParserNotLoadedError);
      expect(() => lazy.evaluate({ script }, ctx('workspace-write'))).toThrow(
        expect.objectContaining({ code: 'PARSER_NOT_LOADED' }),
      );
      const got = await lazy.evaluateAsync({ script }, ctx('workspace-write'));
      expect(got).toEqual(eager.evaluate({ script }, ctx('workspace-write')));
      expect(parserLoaded(lazy)).toBe(true);
      // Loaded now: the synchronous call works too.
      expect(lazy.evaluate({ script }, ctx('workspace-write'))).toEqual(got);
    }
  });

  it('beforeParserLoad runs once, before the parser loads, and never for commands the fast path reads', async () => {
    let calls = 0;
    const lazy = await createPolicyEngine({ parser: 'on-demand', beforeParserLoad: () => void calls++ });
    for (const argv of ARGV) await lazy.evaluateAsync(argv, ctx('offline'));
    for (const script of FAST) await lazy.evaluateAsync({ script }, ctx('offline'));
    expect(calls).toBe(0);
    await Promise.all(NEEDS_PARSER.map((script) => lazy.evaluateAsync({ script }, ctx('offline'))));
    expect(calls).toBe(1);
    expect(parserLoaded(lazy)).toBe(true);
    let eagerCalls = 0;
    await createPolicyEngine({ beforeParserLoad: () => void eagerCalls++ });
    expect(eagerCalls).toBe(1);
  });

  it('concurrent evaluateAsync calls share one parser load', async () => {
    const lazy = await createPolicyEngine({ parser: 'on-demand' });
    const results = await Promise.all(
      NEEDS_PARSER.map((script) => lazy.evaluateAsync({ script }, ctx('offline'))),
    );
    const eager = await defaultEngine();
    expect(results).toEqual(NEEDS_PARSER.map((script) => eager.evaluate({ script }, ctx('offline'))));
    expect(results.map((r) => r.decision)).toContain('forbidden');
  });

  it('checks rule examples the fast path cannot read with the real parser (a failing one still refuses to load)', async () => {
    const rule = (example: string) => ({
      rule: [{ id: 'echo-words', prefix: ['echo'], decision: 'allow', justification: 'x', match: [example] }],
    });
    const lazy = await createPolicyEngine({
      parser: 'on-demand',
      layers: [{ kind: 'user', source: 'u', policy: rule('echo a\\ b') }],
    });
    expect(parserLoaded(lazy)).toBe(true);
    await expect(
      createPolicyEngine({
        parser: 'on-demand',
        layers: [{ kind: 'user', source: 'u', policy: rule('ls a\\ b') }],
      }),
    ).rejects.toThrow(PolicyExampleError);
    const plain = await createPolicyEngine({
      parser: 'on-demand',
      layers: [{ kind: 'user', source: 'u', policy: rule('echo hello') }],
    });
    expect(parserLoaded(plain)).toBe(false);
    await expect(
      createPolicyEngine({
        parser: 'on-demand',
        layers: [{ kind: 'user', source: 'u', policy: rule('ls hello') }],
      }),
    ).rejects.toThrow(PolicyExampleError);
  });
});

describe('on-demand and eager engines agree', () => {
  const PROFILES = ['offline', 'net-read-only', 'workspace-write', 'workspace-net', 'trusted'];

  it('on every publicly reported bypass script, each on a fresh on-demand engine, under every profile', async () => {
    const eager = await defaultEngine();
    const scripts = BYPASS_CORPUS.flatMap((g) => g.scripts);
    expect(scripts.length).toBeGreaterThan(50);
    for (const script of scripts) {
      const lazy = await createPolicyEngine({ parser: 'on-demand' });
      for (const profile of PROFILES) {
        const want = eager.evaluate({ script }, ctx(profile));
        expect(await lazy.evaluateAsync({ script }, ctx(profile)), `${profile}: ${script}`).toEqual(want);
        expect(await lazy.evaluateAsync(['bash', '-lc', script], ctx(profile))).toEqual(
          eager.evaluate(['bash', '-lc', script], ctx(profile)),
        );
      }
    }
  });

  it('on 500 generated scripts (allowed tools, risky options, every expansion construct)', async () => {
    const eager = await defaultEngine();
    const lazy = await createPolicyEngine({ parser: 'on-demand' });
    for (const script of fc.sample(generatedScript, { numRuns: 500, seed: 4242 })) {
      for (const profile of PROFILES)
        expect(await lazy.evaluateAsync({ script }, ctx(profile)), `${profile}: ${script}`).toEqual(
          eager.evaluate({ script }, ctx(profile)),
        );
    }
  });
});

describe('the built entry', () => {
  it('imports the wasm binaries and the tree-sitter runtime only dynamically (needs pnpm build)', () => {
    const dist = new URL('../dist/', import.meta.url);
    const entry = readFileSync(new URL('index.js', dist), 'utf8');
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(new URL(file, dist), 'utf8');
      expect(text, `${file} is statically imported by the entry`).not.toContain('RUNTIME_WASM_BASE64 =');
      for (const m of text.matchAll(/^\s*(?:import|export)[^;'"]*?from\s*["']\.\/([^"']+)["']/gm))
        visit(m[1]!);
    };
    visit('index.js');
    expect(entry).toMatch(/import\(["']\.\/wasm-[\w-]+\.js["']\)/);
    expect(entry).toMatch(/import\(["']\.\/tree-sitter-[\w-]+\.js["']\)/);
  });
});
