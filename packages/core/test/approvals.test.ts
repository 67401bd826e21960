import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@codex/execpolicy';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPROVALS_FILE, approvalPrefix, collectPolicyLayers, saveApproval } from '../src/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-approvals-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const ctx = {
  profile: 'offline' as const,
  cwd: '/tmp',
  workspaceRoots: ['/tmp'],
  platform: 'linux' as const,
};

describe('approvalPrefix', () => {
  it('is the narrowest prefix shown: up to three words, never the bare program for a command with arguments', () => {
    expect(approvalPrefix(['npm', 'exec', 'cowsay', '--', 'hi'])).toEqual(['npm', 'exec', 'cowsay']);
    expect(approvalPrefix(['npm', '-y', 'exec', 'cowsay'])).toEqual(['npm', '-y', 'exec']);
    expect(approvalPrefix(['python3', '-c', 'print(1)'])).toEqual(['python3', '-c', 'print(1)']);
    expect(approvalPrefix(['make'])).toEqual(['make']);
  });
});

describe('saveApproval', () => {
  it('appends an allow rule the policy engine loads, and does not save the same prefix twice', async () => {
    const first = saveApproval(home, ['npm', 'exec', 'cowsay']);
    const again = saveApproval(home, ['npm', 'exec', 'cowsay']);
    expect(first.added).toBe(true);
    expect(again).toMatchObject({ added: false, id: first.id });
    const text = readFileSync(join(home, APPROVALS_FILE), 'utf8');
    expect(text.match(/\[\[rule\]\]/g)).toHaveLength(1);
    const layers = await collectPolicyLayers({ config: defaultConfig(), codexHome: home, cwd: '/tmp' });
    const engine = await createPolicyEngine({ layers });
    expect(engine.evaluate(['npm', 'exec', 'cowsay'], ctx).decision).toBe('allow');
    // Narrow: `npm` with another subcommand or package is not approved by it.
    expect(engine.evaluate(['npm', 'exec', 'rimraf'], ctx).decision).not.toBe('allow');
    expect(engine.evaluate(['npm', 'install'], ctx).decision).not.toBe('allow');
    // …and `policy check` style callers can opt out of reading saved approvals only explicitly.
    const without = await collectPolicyLayers({
      config: defaultConfig(),
      codexHome: home,
      cwd: '/tmp',
      approvals: false,
    });
    expect(without).toHaveLength(0);
  });

  it('words with quotes and newlines stay one TOML string each (no rule injection)', async () => {
    saveApproval(home, ['echo', 'a"\n[[rule]]\nid = "x"\nprefix = ["rm"]\ndecision = "allow"']);
    const layers = await collectPolicyLayers({ config: defaultConfig(), codexHome: home, cwd: '/tmp' });
    const engine = await createPolicyEngine({ layers });
    expect(engine.rules.filter((r) => r.layer === 'user')).toHaveLength(1);
    expect(engine.evaluate(['rm', 'x'], ctx).decision).not.toBe('allow');
  });

  it('8 processes saving at once: every prefix exactly once (file lock), and a dead owner lock is broken', async () => {
    const url = new URL('../dist/index.js', import.meta.url).href;
    const save = (word: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [
          '-e',
          `import(${JSON.stringify(url)}).then((m) => { for (let i = 0; i < 3; i++) m.saveApproval(${JSON.stringify(home)}, ['tool', ${JSON.stringify(word)}]); })`,
        ]);
        child.once('exit', resolve);
      });
    const codes = await Promise.all(Array.from({ length: 8 }, (_, i) => save(`w${i}`)));
    expect(codes).toEqual(Array(8).fill(0));
    const text = readFileSync(join(home, APPROVALS_FILE), 'utf8');
    for (let i = 0; i < 8; i++) expect(text.split(`prefix = ["tool","w${i}"]`).length - 1).toBe(1);
    // A lock left by a process that no longer exists does not block the next save.
    writeFileSync(join(home, `${APPROVALS_FILE}.lock`), '999999999');
    expect(saveApproval(home, ['tool', 'after-crash']).added).toBe(true);
  }, 30_000);

  it('refuses an empty prefix', () => {
    expect(() => saveApproval(home, [])).toThrow(/at least one/);
    expect(() => saveApproval(home, ['ls', ''])).toThrow(/at least one/);
  });
});
