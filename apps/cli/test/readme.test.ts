import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BIN } from './helpers.js';

it('every line of the README example exits as its comment says', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /## Example[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const lines = block!.trim().split('\n');
  expect(lines.length).toBe(6);
  const home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  const ws = mkdtempSync(join(tmpdir(), 'codex-ws-'));
  try {
    for (const l of lines) {
      const [, cmd, code] = /^codex (.*?)\s+# exit (\d+):/.exec(l) ?? [];
      expect(cmd, l).toBeDefined();
      const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" ${cmd}`], {
        cwd: ws,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
      });
      expect(r.status, `${l}\n${r.stderr}`).toBe(Number(code));
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  }
});
