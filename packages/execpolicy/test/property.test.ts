import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Language, Parser } from 'web-tree-sitter';
import { DECISIONS, type Decision, type PolicyEngine, stricter } from '../src/index.js';
import { createBashParser } from '../src/parser.js';
import { ctx, defaultEngine } from './helpers.js';

const RANK: Record<Decision, number> = { allow: 0, prompt: 1, forbidden: 2 };
const RUNS = 300;

/** Shell-ish alphabet so random strings hit quoting, substitutions, redirects and errors often. */
const shellChar = fc.constantFrom(
  ...'abcdeflmrstx /.-~*?$(){}[]<>|&;`\'"\\\n\t=#!0123456789'.split(''),
  '$(',
  '${',
  '<<',
  '>>',
  '&&',
  '||',
  '2>',
  '&>',
  ' ls ',
  ' rm ',
  ' curl ',
  ' sudo ',
  ' echo ',
  ' bash -c ',
);
const shellString = fc.array(shellChar, { maxLength: 60 }).map((a) => a.join(''));

/** Simple commands whose decision is known in isolation. */
const POOL = [
  'ls -la',
  'git status',
  'echo hi',
  'cat README.md',
  'curl https://example.com',
  'sudo ls',
  'rm -rf /',
  'echo x > out.txt',
  'echo x > /etc/hosts',
  'frobnicate',
  'rm -rf build',
  'python3 -c "print(1)"',
  'dig example.com',
  'grep -rn x src',
  'touch a',
];

/** Constructs the engine does not (or cannot) prove harmless. */
const NOT_UNDERSTOOD = [
  '$CMD',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
  '${CMD} -x',
  '$(echo ls)',
  '`echo ls` -la',
  'eval ls',
  'f() { ls; }',
  'frobnicate --all',
  './run.sh',
  'bash script.sh',
  'echo "unterminated',
  "echo 'unterminated",
  'ls && ;',
  'if then fi',
  'source ./x',
  'coproc ls',
  'trap "ls" EXIT',
  'alias ll=ls',
  'PATH=/x ls',
  'ls $(',
  'cat <<EOF\n$(frobnicate)\nEOF',
];

describe('property tests (fast-check)', () => {
  let engine: PolicyEngine;
  let parser: Parser;
  beforeAll(async () => {
    engine = await defaultEngine();
    parser = await createBashParser();
  });

  it('random strings never crash evaluate and always give a decision', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), shellString),
        (s) => {
          for (const profile of ['offline', 'trusted'] as const) {
            const r = engine.evaluate({ script: s }, ctx(profile));
            expect(DECISIONS).toContain(r.decision);
            expect(r.reasons.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('random argv arrays never crash evaluate', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 12 }), shellString), { maxLength: 6 }), (argv) => {
        const r = engine.evaluate(argv, ctx('workspace-write'));
        expect(DECISIONS).toContain(r.decision);
        if (argv.length === 0) expect(r.decision).toBe('forbidden');
      }),
      { numRuns: RUNS },
    );
  });

  it('a script the parser cannot fully parse (ERROR/MISSING nodes) is never allow', () => {
    let errors = 0;
    fc.assert(
      fc.property(shellString, (s) => {
        const tree = parser.parse(s)!;
        const broken = tree.rootNode.hasError;
        tree.delete();
        if (!broken) return;
        errors++;
        expect(engine.evaluate({ script: s }, ctx('trusted')).decision).not.toBe('allow');
        expect(engine.evaluate(['bash', '-lc', s], ctx('trusted')).decision).not.toBe('allow');
      }),
      { numRuns: RUNS },
    );
    expect(errors).toBeGreaterThan(10); // the generator really produces broken scripts
  });

  it('any script containing a construct the engine does not understand is never allow', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...POOL.filter((c) => !c.includes('>'))), { maxLength: 3 }),
        fc.constantFrom(...NOT_UNDERSTOOD),
        fc.array(fc.constantFrom(...POOL), { maxLength: 3 }),
        fc.constantFrom('; ', ' && ', ' || ', ' | ', '\n'),
        fc.constantFrom(
          ...(['offline', 'net-read-only', 'workspace-write', 'workspace-net', 'trusted'] as const),
        ),
        (before, odd, after, sep, profile) => {
          const script = [...before, odd, ...after].join(sep);
          const r = engine.evaluate({ script }, ctx(profile));
          expect(r.decision, `${script} → ${r.reasons.join('; ')}`).not.toBe('allow');
          expect(engine.evaluate(['bash', '-lc', script], ctx(profile)).decision).not.toBe('allow');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a sequence is exactly as strict as its strictest command', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...POOL), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('; ', ' && ', ' || ', '\n'),
        fc.constantFrom(...(['offline', 'workspace-write', 'workspace-net', 'trusted'] as const)),
        (cmds, sep, profile) => {
          const expected = cmds
            .map((c) => engine.evaluate({ script: c }, ctx(profile)).decision)
            .reduce<Decision>((a, b) => stricter(a, b), 'allow');
          expect(engine.evaluate({ script: cmds.join(sep) }, ctx(profile)).decision).toBe(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('wrapping in $(…), backticks, a subshell or bash -c never makes a command less strict', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...POOL),
        fc.constantFrom('offline', 'workspace-net', 'trusted'),
        (c, profile) => {
          const base = RANK[engine.evaluate({ script: c }, ctx(profile)).decision];
          const quoted = `'${c.replace(/'/g, `'\\''`)}'`;
          for (const wrapped of [
            `echo $(${c})`,
            `(${c})`,
            `{ ${c}; }`,
            `bash -c ${quoted}`,
            `x=$(${c})`,
            `if true; then ${c}; fi`,
          ]) {
            const r = engine.evaluate({ script: wrapped }, ctx(profile));
            expect(RANK[r.decision], wrapped).toBeGreaterThanOrEqual(base);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('more permissive profiles are never stricter: trusted ≤ workspace-net ≤ offline', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...POOL, ...NOT_UNDERSTOOD), { minLength: 1, maxLength: 3 }),
        (cmds) => {
          const script = cmds.join('; ');
          const r = (p: string) => RANK[engine.evaluate({ script }, ctx(p)).decision];
          expect(r('trusted')).toBeLessThanOrEqual(r('workspace-net'));
          expect(r('workspace-net')).toBeLessThanOrEqual(r('offline'));
          expect(r('workspace-write')).toBeLessThanOrEqual(r('offline'));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('parameter expansion in command position is never allow', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/),
        fc.constantFrom('$', '${'),
        (name, sigil) => {
          const word = sigil === '$' ? `$${name}` : `\${${name}}`;
          expect(engine.evaluate({ script: `${word} -la` }, ctx('trusted')).decision).not.toBe('allow');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the parser runtime reports a compatible grammar ABI', async () => {
    const language = parser.language as Language;
    expect(language.abiVersion).toBeGreaterThanOrEqual(13);
    expect(language.abiVersion).toBeLessThanOrEqual(15);
  });
});
