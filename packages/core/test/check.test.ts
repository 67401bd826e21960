import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCommand, saveApproval } from '../src/index.js';

let home: string;
let work: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-check-home-'));
  work = mkdtempSync(join(tmpdir(), 'codex-core-check-work-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const options = (extra: string[] = []) => ({
  ...{ config: defaultConfig(), codexHome: home, cwd: work, env: { HOME: home } },
  ...{ profile: 'workspace-write' as const, extra },
});

describe('checkCommand', () => {
  it('decides argv and scripts against the workspace (writes inside allowed, outside forbidden)', async () => {
    expect((await checkCommand(['ls', '-la'], options())).decision).toBe('allow');
    expect((await checkCommand({ script: 'echo hi > out.txt' }, options())).decision).toBe('allow');
    const outside = await checkCommand({ script: 'echo hi > /etc/x' }, options());
    expect(outside.decision).toBe('forbidden');
    expect(outside.profile).toBe('workspace-write');
  });

  it('uses the same layers as codex exec: --policy files and saved approvals', async () => {
    expect((await checkCommand(['frobnicate'], options())).decision).toBe('prompt');
    const extra = join(work, 'extra.toml');
    const rule = 'id = "frob"\nprefix = ["frobnicate"]\ndecision = "allow"\njustification = "ours"\n';
    writeFileSync(extra, `[[rule]]\n${rule}`);
    expect((await checkCommand(['frobnicate'], options([extra]))).decision).toBe('allow');
    expect((await checkCommand(['frobnicate', '--all'], options())).decision).toBe('prompt');
    saveApproval(home, ['frobnicate', '--all']);
    expect((await checkCommand(['frobnicate', '--all'], options())).decision).toBe('allow');
  });
});
