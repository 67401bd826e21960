import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@codex/execpolicy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectPresets, initProject, loadConfig, renderProjectPolicy } from '../src/index.js';

let ws: string;
let home: string;
beforeEach(() => {
  ws = mkdtempSync(join(tmpdir(), 'codex-init-ws-'));
  home = mkdtempSync(join(tmpdir(), 'codex-init-home-'));
});
afterEach(() => {
  rmSync(ws, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const files: Record<string, string> = {
  'package.json': JSON.stringify({ scripts: { test: 'vitest', build: 'tsup', 'bad name;rm': 'x' } }),
  'yarn.lock': '',
  'Cargo.toml': '[package]\nname = "x"\n',
  'go.mod': 'module x\n',
  'pytest.ini': '[pytest]\n',
  Makefile: 'VAR := 1\nall: test\ntest:\n\techo t\n.PHONY: all test\n',
};

async function engineFor(policy: string) {
  // The real loader: it refuses a policy whose own examples fail; trusted so allow rules count.
  return createPolicyEngine({ layers: [{ kind: 'project', source: 'policy.toml', policy, trusted: true }] });
}

describe('codex init: presets', () => {
  it('detects each build tool by its file, and every generated rule loads and allows its commands', async () => {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(ws, name), content);
    const presets = detectPresets(ws);
    expect(presets.map((p) => [p.id, p.evidence])).toEqual([
      ['yarn', 'yarn.lock'],
      ['cargo', 'Cargo.toml'],
      ['go', 'go.mod'],
      ['pytest', 'pytest.ini'],
      ['make', 'Makefile'],
    ]);
    const policy = renderProjectPolicy(presets);
    expect(policy).toMatch(/yarn runs this repository's package.json scripts \(build, test\)/); // not "bad name;rm"
    expect(policy).toMatch(/make runs this repository's Makefile recipes \(all, test\)/); // not VAR
    const engine = await engineFor(policy);
    const ctx = { profile: 'offline' as const, cwd: ws, workspaceRoots: [ws] };
    for (const cmd of ['yarn test', 'cargo test', 'go test ./...', 'pytest -x', 'make test'])
      expect(engine.evaluate({ script: cmd }, ctx).decision, cmd).toBe('allow');
    for (const cmd of ['yarn add left-pad', 'cargo install ripgrep', 'go run x.go'])
      expect(engine.evaluate({ script: cmd }, ctx).decision, cmd).not.toBe('allow');
  });

  it('npm by default, pnpm by its lock file; nothing found gives a policy with an example only', async () => {
    writeFileSync(join(ws, 'package.json'), '{}');
    expect(detectPresets(ws).map((p) => p.id)).toEqual(['npm']);
    writeFileSync(join(ws, 'pnpm-lock.yaml'), '');
    expect(detectPresets(ws).map((p) => p.id)).toEqual(['pnpm']);
    const empty = mkdtempSync(join(tmpdir(), 'codex-init-empty-'));
    try {
      expect(detectPresets(empty)).toEqual([]);
      const policy = renderProjectPolicy([]);
      expect(policy).toMatch(/No build tool was recognised/);
      await expect(engineFor(policy)).resolves.toBeDefined();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('codex init: files', () => {
  it('writes both files; a second run changes nothing; the config is valid', () => {
    writeFileSync(join(ws, 'go.mod'), 'module x\n');
    const first = initProject({ codexHome: home, workspace: ws });
    expect(first.files.map((f) => f.action)).toEqual(['created', 'created']);
    expect(loadConfig(join(home, 'config.toml')).config).toMatchObject({
      profile: 'offline',
      approval: { mode: 'on-request' },
    });
    const second = initProject({ codexHome: home, workspace: ws });
    expect(second.files.map((f) => f.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('never overwrites a file that differs without force; dry-run writes nothing', () => {
    mkdirSync(join(ws, '.codex'));
    writeFileSync(join(ws, '.codex', 'policy.toml'), '# mine\n');
    writeFileSync(join(ws, 'Cargo.toml'), '');
    const dry = initProject({ codexHome: home, workspace: ws, dryRun: true, force: true });
    expect(dry.files.map((f) => f.action)).toEqual(['created', 'overwritten']);
    expect(readFileSync(join(ws, '.codex', 'policy.toml'), 'utf8')).toBe('# mine\n');
    expect(() => readFileSync(join(home, 'config.toml'))).toThrow();
    const kept = initProject({ codexHome: home, workspace: ws });
    expect(kept.files.map((f) => f.action)).toEqual(['created', 'kept']);
    expect(readFileSync(join(ws, '.codex', 'policy.toml'), 'utf8')).toBe('# mine\n');
    const forced = initProject({ codexHome: home, workspace: ws, force: true });
    expect(forced.files.map((f) => f.action)).toEqual(['unchanged', 'overwritten']);
    expect(readFileSync(join(ws, '.codex', 'policy.toml'), 'utf8')).toMatch(/id = "cargo-build"/);
  });
});
