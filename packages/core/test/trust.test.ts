import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyDigest } from '@codex/execpolicy';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PolicyUnreadableError, trustedDigests, trustPolicyFile } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-core-trust-'));
  mkdirSync(join(dir, 'ws', '.codex'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const home = () => join(dir, 'home');
const policy = () => join(dir, 'ws', '.codex', 'policy.toml');

it('trustPolicyFile pins the digest of the exact content, replacing an older pin', async () => {
  writeFileSync(
    policy(),
    '[[rule]]\nid = "npm-test"\nprefix = ["npm", "test"]\ndecision = "allow"\njustification = "tests"\n',
  );
  const first = await trustPolicyFile(home(), policy());
  expect(first.path).toBe(policy());
  const edited =
    '[[rule]]\nid = "npm-run"\nprefix = ["npm", "run"]\ndecision = "allow"\njustification = "tests"\n';
  writeFileSync(policy(), edited);
  const second = await trustPolicyFile(home(), policy());
  expect(second.digest).toBe(policyDigest(edited));
  expect(trustedDigests(home(), policy())).toEqual([second.digest]);
});

it('an unreadable file is PolicyUnreadableError; a file that does not load is its parse error, unpinned', async () => {
  const missing = join(dir, 'nope.toml');
  const error = await trustPolicyFile(home(), missing).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PolicyUnreadableError);
  expect(error).toMatchObject({ code: 'POLICY_UNREADABLE', path: missing });
  expect((error as Error).message).toBe(`cannot read ${missing} (ENOENT)`);
  writeFileSync(policy(), 'this is = = not toml');
  await expect(trustPolicyFile(home(), policy())).rejects.toThrow();
  expect(trustedDigests(home(), policy())).toEqual([]);
});
