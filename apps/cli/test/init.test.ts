import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codex } from './helpers.js';

let home: string;
let repo: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  repo = mkdtempSync(join(tmpdir(), 'codex-repo-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

const run = (args: string[]) => codex(args, { home, cwd: repo });

describe('codex init', () => {
  it('as a new user: init, read, trust, and the project policy allows the build tool', () => {
    writeFileSync(
      join(repo, 'package.json'),
      JSON.stringify({ scripts: { test: 'node -e 0', lint: 'true' } }),
    );
    writeFileSync(join(repo, 'Makefile'), 'check:\n\ttrue\n');
    const dry = run(['init', '--dry-run']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would be created: .*config\.toml/);
    expect(dry.stdout).toMatch(/id = "npm-scripts"/);
    expect(() => readFileSync(join(repo, '.codex', 'policy.toml'))).toThrow();

    const first = run(['init']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/build tools found: npm \(package\.json\), make \(Makefile\)/);
    expect(first.stdout).toMatch(/created: .*\.codex\/policy\.toml/);
    expect(first.stdout).toMatch(/codex policy trust/);
    expect(run(['init']).stdout).toMatch(/unchanged \(already up to date\): .*policy\.toml/);

    // untrusted, the repository's allow rules do not count; pinned, they do
    expect(run(['policy', 'check', '--', 'npm', 'run', 'lint']).status).toBe(10);
    expect(run(['policy', 'trust']).status).toBe(0);
    const allowed = run(['policy', 'check', '--', 'npm', 'run', 'lint']);
    expect(allowed.status, allowed.stdout).toBe(0);
    expect(allowed.stdout).toMatch(/npm-scripts \(project\)/);
    expect(run(['policy', 'check', '--', 'make', 'check']).status).toBe(0);
  });

  it('keeps an edited file unless --force, and says so', () => {
    writeFileSync(join(repo, 'go.mod'), 'module x\n');
    expect(run(['init']).status).toBe(0);
    writeFileSync(join(repo, '.codex', 'policy.toml'), 'version = 1\n# my edits\n');
    const kept = run(['init']);
    expect(kept.status).toBe(0);
    expect(kept.stdout).toMatch(/kept: it exists and differs; --force overwrites it/);
    expect(readFileSync(join(repo, '.codex', 'policy.toml'), 'utf8')).toMatch(/my edits/);
    const forced = JSON.parse(run(['init', '--force', '--json']).stdout);
    expect(forced.files.map((f: { action: string }) => f.action)).toEqual(['unchanged', 'overwritten']);
    expect(readFileSync(join(repo, '.codex', 'policy.toml'), 'utf8')).toMatch(/id = "go-build"/);
  });
});
