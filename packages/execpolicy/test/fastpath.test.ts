import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastSegments } from '../src/fastpath.js';
import type { PolicyEngine } from '../src/index.js';
import { defaultEngine } from './helpers.js';

/**
 * The fast reader must agree with the tree-sitter walk on every script it accepts (same words,
 * values, literal flags, sources, redirects and segment texts, in the same order), and refuse the
 * rest. Compared on generated plain scripts, on near-miss scripts, and on the cases tables.
 */
let engine: PolicyEngine & { treeSegments(s: string): unknown };
beforeAll(async () => {
  engine = (await defaultEngine()) as typeof engine;
});

const bare = fc.stringMatching(/^[A-Za-z0-9_./:,+%@^-]{1,8}$/);
const wordArb = fc.oneof(
  bare,
  bare.map((w) => `'${w} x'`),
  bare.map((w) => `"${w} y"`),
  bare.map((w) => `a${w}'q'"r"`),
  fc.constantFrom(
    '$(date)',
    '$(ls -la src)',
    '$(git status --short | wc -l)',
    '""',
    "''",
    '-la',
    '--short',
    '10',
    '0',
  ),
);
const redirectArb = fc.constantFrom(
  '',
  '',
  ' > out.txt',
  ' >> log',
  ' 2>&1',
  ' 2> err',
  ' < in.txt',
  ' >/dev/null 2>&1',
  ' 1>&2',
);
const nameArb = fc.constantFrom('ls', 'git', 'cat', 'grep', 'echo', 'wc', 'rg', 'sed', 'x-y', 'a.b', ':');
const commandArb = fc
  .tuple(nameArb, fc.array(wordArb, { maxLength: 4 }), redirectArb)
  .map(([n, ws, r]) => [n, ...ws].join(' ') + r);
const sepArb = fc.constantFrom(' && ', ' || ', '; ', ' | ', '\n', ' &&\n', '|');
const scriptArb = fc
  .tuple(
    fc.array(commandArb, { minLength: 1, maxLength: 5 }),
    fc.array(sepArb, { minLength: 4, maxLength: 4 }),
  )
  .map(([cs, seps]) => cs.map((c, i) => (i === 0 ? c : seps[i - 1] + c)).join(''));
/** Near misses: the same with a character the fast reader must refuse or handle like tree-sitter. */
const nearMiss = fc
  .tuple(
    scriptArb,
    fc.nat(),
    fc.constantFrom(
      '~',
      '*',
      '$',
      '\\',
      '#',
      '{',
      '}',
      '(',
      ')',
      '&',
      ';',
      '!',
      '=',
      '[',
      '`',
      '"',
      "'",
      '\t',
      '<',
      '>',
      '2',
      ' ',
    ),
  )
  .map(([s, k, c]) => {
    const at = k % (s.length + 1);
    return s.slice(0, at) + c + s.slice(at);
  });

function agree(script: string): boolean {
  const fast = fastSegments(script);
  if (fast === undefined) return false;
  expect(fast, script).toEqual(engine.treeSegments(script));
  return true;
}

describe('fast reader ≡ tree-sitter walk', () => {
  it('generated plain scripts are read by the fast path and agree', () => {
    let taken = 0;
    fc.assert(
      fc.property(scriptArb, (s) => {
        if (agree(s)) taken++;
      }),
      { numRuns: 2000, seed: 15 },
    );
    expect(taken).toBeGreaterThan(1000); // about two thirds are plain enough for the fast reader
  }, 60_000);

  it('near misses either go to tree-sitter or agree', () => {
    fc.assert(
      fc.property(nearMiss, (s) => {
        agree(s);
      }),
      { numRuns: 3000, seed: 16 },
    );
  }, 60_000);

  it.each([
    'git status --short && ls -la src/1 | wc -l; cat package.json | grep "name" > out/1.txt; echo $(date) 1',
    'ls',
    'echo \'a b\' "c d" e\'f\'"g"',
    'cat a 2>&1 | tee log',
    'echo $(git rev-parse HEAD)',
  ])('fast path reads %j', (s) => {
    expect(agree(s)).toBe(true);
  });

  it.each([
    'ls ~',
    'ls *.ts',
    'a=1 ls',
    'if true; then ls; fi',
    'echo $HOME',
    'ls;',
    'ls &',
    'echo 22>x',
    'export A=1',
    'ls # c',
    'echo "$(id)"',
    'cat <<EOF\nx\nEOF',
    'ls >| x',
    'ls &> x',
  ])('refuses %j', (s) => {
    expect(fastSegments(s)).toBeUndefined();
  });
});
