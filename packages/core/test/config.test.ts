import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codexHome, loadConfig, resolveWorkspace } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-core-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('config', () => {
  it('CODEX_HOME, missing file defaults, one-line errors naming the file', () => {
    expect(codexHome({ CODEX_HOME: dir })).toBe(dir);
    expect(loadConfig(join(dir, 'none.toml'))).toMatchObject({ exists: false, setsProfile: false });
    writeFileSync(join(dir, 'bad.toml'), 'profile = \n');
    expect(() => loadConfig(join(dir, 'bad.toml'))).toThrow(/bad\.toml.*TOML syntax error at line 1/);
    writeFileSync(
      join(dir, 'c.toml'),
      'profile = "workspace-write"\n[sandbox]\nworkspace_roots = ["/srv/ws"]\n',
    );
    expect(loadConfig(join(dir, 'c.toml'))).toMatchObject({
      exists: true,
      setsProfile: true,
      config: { profile: 'workspace-write' },
    });
  });

  it('workspace roots: given > config > cwd; extra writable roots only for profiles that write', () => {
    const config = defaultConfig();
    expect(resolveWorkspace(config, 'offline', '/w', { writable: ['x'] })).toEqual({
      workspaceRoots: ['/w'],
      extraWritableRoots: [],
    });
    expect(
      resolveWorkspace(config, 'workspace-write', '/w', { workspaceRoots: ['a'], writable: ['x'] }),
    ).toEqual({
      workspaceRoots: ['/w/a'],
      extraWritableRoots: ['/w/x'],
    });
    const withRoots = { ...config, sandbox: { ...config.sandbox, workspace_roots: ['/srv'] } };
    expect(resolveWorkspace(withRoots, 'offline', '/w').workspaceRoots).toEqual(['/srv']);
  });
});
