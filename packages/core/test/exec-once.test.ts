// runGuardedOnce: codex exec's composition (its own engine, the config's audit log) without the CLI.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { resolveWorkspace, runGuardedOnce } from '../src/index.js';

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync('/var/tmp/codex-core-once-');
  home = mkdtempSync('/var/tmp/codex-core-once-home-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const config = defaultConfig();
const request = (command: readonly string[] | { script: string }) => ({
  command,
  cwd: dir,
  profile: 'offline' as const,
  workspace: resolveWorkspace(config, 'offline', dir),
});

/** The entries of the config's audit log (closed by the time runGuardedOnce returns). */
function entries(): { session_id: string; agent_type: string; decision: string; reason: string }[] {
  const file = join(home, 'audit', 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

it('a forbidden command is refused before it runs, audited in the config log as codex-exec', async () => {
  const marker = join(dir, 'ran');
  const r = await runGuardedOnce(request({ script: `touch ${marker}; rm -rf /` }), {
    ...{ config, codexHome: home, env: {} },
  });
  expect(r).toMatchObject({ outcome: 'refused', exitCode: 125, refusal: { code: 'POLICY_FORBIDDEN' } });
  expect(existsSync(marker)).toBe(false);
  const [entry, ...more] = entries();
  expect(more).toEqual([]);
  expect(entry).toMatchObject({ agent_type: 'codex-exec', decision: 'denied' });
  expect(entry!.session_id).toMatch(/^exec-[0-9a-f-]{36}$/);
});

it("extra policy layers apply; the agent type is the caller's", async () => {
  const layer = join(dir, 'no-echo.toml');
  writeFileSync(
    layer,
    '[[rule]]\nid = "no-echo"\nprefix = ["echo"]\ndecision = "forbidden"\njustification = "test"\n',
  );
  const r = await runGuardedOnce(request(['echo', 'hi']), {
    ...{ config, codexHome: home, env: {}, policies: [layer], agentType: 'test-agent' },
  });
  expect(r).toMatchObject({ outcome: 'refused', decision: 'forbidden' });
  expect(entries().map((e) => e.agent_type)).toEqual(['test-agent']);
});

it('a prompt with no approver is refused and audited with why no one was asked', async () => {
  const r = await runGuardedOnce(request(['curl', 'https://example.com']), {
    ...{ config, codexHome: home, env: {}, unattended: 'without a TTY' },
  });
  expect(r).toMatchObject({ outcome: 'refused', decision: 'prompt', refusal: { code: 'APPROVAL_REQUIRED' } });
  expect(entries().at(-1)?.reason).toMatch(/^prompt without a TTY: denied/);
});
