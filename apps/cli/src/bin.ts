#!/usr/bin/env node
// The process entry. It must stay tiny: `codex --version` is answered here without loading
// anything else, so it costs about as much as `node -e 0`.
declare const __CODEX_VERSION__: string;

type NodeModule = { enableCompileCache?: (dir?: string) => unknown };

/**
 * On Node ≥ 22.1, V8's compiled code for our modules is kept between runs, so a `codex exec` in an
 * agent's loop stops re-parsing the same ~0.5 MB of JavaScript (Node 20 has no such API; nothing
 * happens there). The cache sits beside the sandbox probe cache under `$XDG_CACHE_HOME/codex`,
 * owned by the user, not in the shared temporary directory Node would pick by default: an entry
 * is compiled code, so only its owner may be able to write one. `NODE_COMPILE_CACHE`, when set,
 * is the user's own choice and wins; without a home directory nothing is cached.
 */
function enableCompileCache(nodeModule: NodeModule): void {
  const { env } = process;
  const base = env.XDG_CACHE_HOME || (env.HOME ? `${env.HOME}/.cache` : '');
  if (typeof nodeModule.enableCompileCache !== 'function' || env.NODE_COMPILE_CACHE || !base) return;
  try {
    nodeModule.enableCompileCache(`${base}/codex/node-compile-cache`);
  } catch {
    /* an optimisation only: without it codex runs as before */
  }
}

const first = process.argv[2];
if ((first === '--version' || first === '-V') && process.argv.length === 3) {
  process.stdout.write(`codex ${__CODEX_VERSION__}\n`);
} else {
  import('node:module')
    .then(
      (m) => enableCompileCache(m.default as NodeModule),
      () => undefined,
    )
    .then(() => import('./main.js'))
    .then(
      (m) => m.main(process.argv.slice(2), __CODEX_VERSION__),
      (error: unknown) => {
        process.stderr.write(`codex: error: failed to start: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
}
