import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEngine } from '../src/index.js';
import { BYPASS_CORPUS } from './corpus.js';
import { script } from './generator.js';
import { defaultEngine } from './helpers.js';
import { type OracleCase, oracleTools, runOracle } from './oracle.js';

/**
 * The differential oracle against real bash (Linux, bash + strace + bwrap). Without those tools
 * the suite asserts the detection and stops; with CI=true missing tools fail the run.
 * ORACLE_CASES sets the number of generated cases (default 5,000; the scheduled workflow runs
 * 200,000), ORACLE_SEED fixes the generator seed, ORACLE_PROFILE the profile (workspace-write).
 */
const tools = oracleTools();
const CASES = Number(process.env.ORACLE_CASES ?? 5000);
const SEED = process.env.ORACLE_SEED === undefined ? 15 : Number(process.env.ORACLE_SEED);
const PROFILES = ['workspace-write', 'offline', 'trusted'] as const;
/** Profile of the generated run (ORACLE_PROFILE; default workspace-write). */
const GENERATED_PROFILE = process.env.ORACLE_PROFILE ?? 'workspace-write';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await defaultEngine();
});

describe('differential oracle: environment', () => {
  it('bash, strace and bwrap are present (required when CI=true)', () => {
    if (process.env.CI === 'true') expect(tools.missing).toEqual([]);
    else expect(tools.ok).toBe(tools.missing.length === 0);
  });
});

function report(counterexamples: { script: string; problems: readonly string[] }[]): string {
  return counterexamples
    .slice(0, 20)
    .map((c) => `${JSON.stringify(c.script)}\n    ${c.problems.join('\n    ')}`)
    .join('\n');
}

describe.runIf(tools.ok)('differential oracle against bash under strace', () => {
  /** An engine that allows everything and claims it saw only `names`: the oracle must object. */
  const lenient = (names: string[]) =>
    ({
      evaluate: () => ({
        decision: 'allow',
        reasons: [],
        matchedRules: [],
        profile: 'workspace-write',
        segments: names.map((n) => ({
          argv: [n],
          text: n,
          depth: 0,
          decision: 'allow',
          reasons: [],
          rules: [],
          writes: [],
        })),
      }),
    }) as unknown as PolicyEngine;

  it('flags a program the engine never saw and a write outside the roots (the oracle can fail)', async () => {
    const r = await runOracle(
      lenient(['ls', 'echo']),
      [
        { id: 1, script: 'ls; uptime' },
        { id: 2, script: 'echo hi > ../escape' },
        { id: 3, script: 'ls > out.txt; echo hi >> out.txt' },
        { id: 4, script: 'echo hi > ~/.bashrc' },
        { id: 5, script: 'echo $(< ~/.ssh/id_rsa)' },
      ],
      { profile: 'workspace-write' },
    );
    const byScript = new Map(r.counterexamples.map((c) => [c.script, c.problems.join('\n')]));
    expect(byScript.get('ls; uptime')).toMatch(/executed \/usr\/bin\/uptime/);
    expect(byScript.get('echo hi > ../escape')).toMatch(/escape, outside the writable roots/);
    expect(byScript.get('echo hi > ~/.bashrc')).toMatch(/home\/\.bashrc, outside the writable roots/);
    expect(byScript.has('ls > out.txt; echo hi >> out.txt')).toBe(false);
    expect(byScript.get('echo $(< ~/.ssh/id_rsa)')).toMatch(/\.ssh\/id_rsa, a credential file/);
  }, 60_000);

  for (const profile of PROFILES) {
    it(`public bypass corpus under ${profile}: nothing allowed runs an unseen program or writes outside the roots`, async () => {
      const cases: OracleCase[] = BYPASS_CORPUS.flatMap((g) => g.scripts).map((s, id) => ({ id, script: s }));
      const r = await runOracle(engine, cases, { profile });
      expect(r.counterexamples, report(r.counterexamples)).toEqual([]);
    }, 120_000);
  }

  it(
    `${CASES} generated scripts under ${GENERATED_PROFILE}: no counterexample`,
    async () => {
      const scripts = fc.sample(script, { numRuns: CASES, seed: SEED });
      const cases = scripts.map((s, id) => ({ id, script: s }));
      const r = await runOracle(engine, cases, { profile: GENERATED_PROFILE, batchSize: 200 });
      console.log(
        `oracle: ${r.evaluated} generated, ${r.allowed} allowed and run under strace (seed ${SEED})`,
      );
      // Sanity: the generator must reach allowed scripts, or the oracle checks nothing.
      expect(r.allowed).toBeGreaterThan(CASES / 50);
      expect(r.counterexamples, report(r.counterexamples)).toEqual([]);
    },
    Math.max(600_000, CASES * 60),
  );
});
