// pnpm --filter @codex/execpolicy bench  (build first: it imports ../dist)
// Throughput of evaluate() for simple argv commands and 5-segment `bash -lc` scripts, beside
// shell-quote's parse() of the same strings, measured in the same run. The target task uses a
// fresh script string on every call, so the engine's parse cache never hits; a second task shows
// the cache-hit figure for repeated scripts (no decision is ever cached: contexts differ).
import { fileURLToPath } from 'node:url';
import { parse as shellQuoteParse } from 'shell-quote';
import { runSuite } from '../../../scripts/bench-lib.mjs';
import { createPolicyEngine } from '../dist/index.js';

const engine = await createPolicyEngine();
const ctx = {
  profile: 'workspace-write',
  cwd: '/home/me/proj',
  workspaceRoots: ['/home/me/proj'],
  home: '/home/me',
};

const SIMPLE = [
  ['git', 'status', '--short'],
  ['ls', '-la', 'src'],
  ['cat', 'package.json'],
  ['rg', '-n', 'TODO', 'src'],
  ['echo', 'hello'],
  ['curl', '-fsSL', 'https://example.com'],
  ['rm', '-rf', 'build'],
  ['sed', '-n', '10p', 'README.md'],
];
const SIMPLE_STRINGS = SIMPLE.map((a) => a.join(' '));

/** Five segments: `&&`, pipes, `;`, a redirect and a command substitution. */
const script = (i) =>
  `git status --short && ls -la src/${i} | wc -l; cat package.json | grep "name" > out/${i}.txt; echo $(date)`;
const SCRIPTS = Array.from({ length: 64 }, (_, i) => script(i));

// Correctness guard so the benchmark measures real work.
const check = engine.evaluate(['bash', '-lc', SCRIPTS[0]], ctx);
const commands = check.segments.filter((s) => s.argv.length > 0 && s.depth === 1).length;
if (check.decision !== 'allow' || commands < 5)
  throw new Error(`unexpected bench evaluation: ${JSON.stringify(check)}`);

let i = 0;
let j = 0;
let n = 0;
await runSuite({
  packageDir: fileURLToPath(new URL('..', import.meta.url)),
  name: '@codex/execpolicy',
  tasks: {
    'shell-quote parse (simple argv strings)': () => shellQuoteParse(SIMPLE_STRINGS[i++ & 7]),
    'evaluate argv (simple)': () => engine.evaluate(SIMPLE[j++ & 7], ctx),
    'shell-quote parse (5-segment script)': () => shellQuoteParse(SCRIPTS[n++ & 63]),
    'evaluate bash -lc (5 segments, fresh string each call)': () =>
      engine.evaluate(['bash', '-lc', `${SCRIPTS[n++ & 63]} ${n}`], ctx),
    'evaluate bash -lc (5 segments, 64 repeated strings: parse-cache hits)': () =>
      engine.evaluate(['bash', '-lc', SCRIPTS[n++ & 63]], ctx),
  },
  targets: [
    {
      task: 'evaluate argv (simple)',
      baseline: 'shell-quote parse (simple argv strings)',
      minOpsPerSec: 500_000,
      note: 'issue 15: ≥500k evaluations/s for simple argv commands',
    },
    {
      task: 'evaluate bash -lc (5 segments, fresh string each call)',
      baseline: 'shell-quote parse (5-segment script)',
      minOpsPerSec: 20_000,
      note: 'issue 15: ≥20k evaluations/s for fresh 5-segment bash -lc scripts (plain scripts take the fast reader)',
    },
  ],
  extra: { segmentsPerScript: commands, scriptSample: SCRIPTS[0] },
});
