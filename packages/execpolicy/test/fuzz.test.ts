import { CodexError } from '@codex/security-profile';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DECISIONS, type PolicyEngine } from '../src/index.js';
import { ctx, defaultEngine } from './helpers.js';

/**
 * Bad input: any string, any bytes, any nesting depth gives a decision (or, for a bad context, a
 * POLICY_* error), never a crash or a hang. The per-case bound is a hang detector (generous on a
 * loaded machine), not a speed target; throughput is measured in bench/.
 */
const HANG_MS = 5_000;

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await defaultEngine();
});

function decide(command: Parameters<PolicyEngine['evaluate']>[0], profile = 'workspace-write') {
  const start = performance.now();
  const r = engine.evaluate(command, ctx(profile));
  const ms = performance.now() - start;
  expect(DECISIONS).toContain(r.decision);
  expect(r.reasons.length).toBeGreaterThan(0);
  expect(ms).toBeLessThan(HANG_MS);
  return r;
}

const bytes = fc
  .uint8Array({ maxLength: 400 })
  .map((b) => new TextDecoder('utf-8', { fatal: false }).decode(b));
const latin1 = fc.uint8Array({ maxLength: 400 }).map((b) => String.fromCharCode(...b));
const shellish = fc
  .array(
    fc.constantFrom(
      '$(',
      ')',
      '`',
      '"',
      "'",
      '${',
      '}',
      '[[',
      ']]',
      '((',
      '))',
      '$((',
      '<<',
      'EOF',
      '\n',
      ';',
      '&&',
      '||',
      '|',
      '>',
      '<(',
      'a[',
      ']',
      '=',
      '\\',
      '$[',
      'ls',
      'rm -rf ~',
      'cat',
      '-exec',
      '{',
      '#',
      '!',
      '&',
      '~',
      '*',
      'x=',
      '\0',
      '\r',
      '\u202e',
      'bash -c ',
      "'",
      'if',
      'then',
      'fi',
      'for',
      'do',
      'done',
      'case',
      'esac',
      'in',
      ' ',
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('fuzz: any input gives a decision within the time bound', () => {
  it('arbitrary unicode strings as scripts and as one-element argv', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => {
        decide({ script: s });
        decide([s]);
      }),
      { numRuns: 400, seed: 1 },
    );
  }, 60_000);

  it('arbitrary bytes (UTF-8 with replacement, and Latin-1)', () => {
    fc.assert(
      fc.property(bytes, latin1, (a, b) => {
        decide({ script: a });
        decide({ script: b });
      }),
      { numRuns: 400, seed: 2 },
    );
  }, 60_000);

  it('shell-token soup', () => {
    fc.assert(
      fc.property(shellish, fc.constantFrom('offline', 'workspace-write', 'trusted'), (s, p) => {
        const r = decide({ script: s }, p);
        // Unparseable or partial syntax is never allowed to run.
        if (/\0|\r|\u202e/.test(s)) expect(r.decision).not.toBe('allow');
      }),
      { numRuns: 1500, seed: 3 },
    );
  }, 60_000);

  it('arbitrary argv arrays (including empty strings and control characters)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 12 }), (argv) => {
        const r = decide(argv);
        if (argv.length === 0) expect(r.decision).toBe('forbidden');
      }),
      { numRuns: 800, seed: 4 },
    );
  }, 60_000);

  it.each([
    ['command substitutions', (n: number) => `${'$('.repeat(n)}ls${')'.repeat(n)}`, true],
    ['subshells', (n: number) => `${'('.repeat(n)}ls${')'.repeat(n)}`, true],
    ['braces', (n: number) => `${'{ '.repeat(n)}ls${'; }'.repeat(n)}`, false],
    ['arithmetic', (n: number) => `echo $((${'('.repeat(n)}1${')'.repeat(n)}))`, false],
    ['parameter expansions', (n: number) => `echo ${'${a:-'.repeat(n)}x${'}'.repeat(n)}`, false],
    ['unterminated quotes', (n: number) => `echo ${'"$(\''.repeat(n)}`, true],
    ['here-documents', (n: number) => Array.from({ length: n }, (_, i) => `cat <<E${i}`).join('\n'), true],
  ] as const)(
    'deep nesting: %s (depth 1 … 3000) gives a decision and never crashes',
    (_, make, deepIsNotAllowed) => {
      for (const depth of [1, 10, 100, 1000, 3000]) {
        const r = decide({ script: make(depth) });
        // Over 64 commands (or unparseable input) is never allowed; plain nesting of allowed
        // constructs (braces, literal arithmetic, defaults) may be.
        if (depth >= 100 && deepIsNotAllowed) expect(r.decision).not.toBe('allow');
      }
    },
  );

  it('nested bash -c beyond the shell depth limit prompts', () => {
    let script = 'ls';
    for (let depth = 1; depth <= 10; depth++) {
      script = `bash -c ${JSON.stringify(script).replace(/\$/g, '\\$')}`;
      const r = decide({ script });
      if (depth > 4) expect(r.decision).not.toBe('allow');
    }
  });

  it('a script over the length limit prompts without being parsed', () => {
    const r = decide({ script: `ls ${'a'.repeat(200_000)}` });
    expect(r.decision).toBe('prompt');
  });

  it('non-command input is forbidden, never a crash', () => {
    for (const bad of [null, undefined, 42, {}, { script: 5 }, [1, 2], ['ls', null], 'ls']) {
      const r = engine.evaluate(bad as never, ctx('offline'));
      expect(r.decision).toBe('forbidden');
    }
  });

  it('invalid contexts throw a POLICY_CONTEXT error (a CodexError), for any value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ cwd: fc.string() }),
          fc.record({ cwd: fc.constant('/w'), profile: fc.string({ minLength: 1 }) }),
          fc.record({
            cwd: fc.constant('/w'),
            workspaceRoots: fc
              .array(fc.string({ minLength: 1 }).filter((s) => !s.startsWith('/')))
              .filter((a) => a.length > 0),
          }),
          fc.constant(null),
          fc.constant({}),
        ),
        (context) => {
          let result: unknown;
          try {
            result = engine.evaluate(['ls'], context as never);
          } catch (error) {
            result = error;
          }
          if (result instanceof Error) {
            expect(result).toBeInstanceOf(CodexError);
            expect((result as CodexError).code).toMatch(/^POLICY_/);
          } else {
            expect(DECISIONS).toContain((result as { decision: string }).decision);
          }
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  }, 60_000);
});
