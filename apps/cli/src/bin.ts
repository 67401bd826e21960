#!/usr/bin/env node
// The process entry. It must stay tiny: `codex --version` is answered here without loading
// anything else, so it costs about as much as `node -e 0`.
declare const __CODEX_VERSION__: string;

const first = process.argv[2];
if ((first === '--version' || first === '-V') && process.argv.length === 3) {
  process.stdout.write(`codex ${__CODEX_VERSION__}\n`);
} else {
  import('./main.js').then(
    (m) => m.main(process.argv.slice(2), __CODEX_VERSION__),
    (error: unknown) => {
      process.stderr.write(`codex: error: failed to start: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
