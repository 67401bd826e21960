// `codex init`: a commented config.toml for $CODEX_HOME and a project exec policy with presets for
// the build tools the repository uses. Every generated line says why it is there. Files that exist
// are never overwritten unless asked; running it twice changes nothing.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One build tool found in the repository, and the rule it gets. */
export interface Preset {
  readonly id: string;
  /** The file that gave it away (relative to the repository). */
  readonly evidence: string;
  /** TOML for one `[[rule]]`, with comments. */
  readonly rule: string;
}

export interface InitFile {
  readonly path: string;
  readonly content: string;
  /** `created`, `unchanged` (same content there), `overwritten` (`force`), `kept` (differs; no `force`). */
  readonly action: 'created' | 'unchanged' | 'overwritten' | 'kept';
}

export interface InitResult {
  readonly presets: readonly Preset[];
  readonly files: readonly InitFile[];
}

export interface InitOptions {
  readonly codexHome: string;
  /** The repository root (its `.codex/policy.toml` is written). */
  readonly workspace: string;
  readonly force?: boolean;
  /** Compute everything, write nothing. */
  readonly dryRun?: boolean;
}

const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(q).join(', ')}]`;

function rule(
  id: string,
  why: string,
  prefix: readonly (string | readonly string[])[],
  examples: readonly string[],
): string {
  const p = prefix.map((t) => (typeof t === 'string' ? q(t) : list(t))).join(', ');
  return `# ${why}
[[rule]]
id = ${q(id)}
prefix = [${p}]
decision = "allow"
justification = ${q(why)}
match = ${list(examples)}
`;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9:_.-]*$/;

function nodePreset(ws: string): Preset | undefined {
  if (!existsSync(join(ws, 'package.json'))) return undefined;
  const scripts = Object.keys((readJson(join(ws, 'package.json'))?.scripts as object | undefined) ?? {})
    .filter((s) => NAME.test(s))
    .sort();
  const tool = existsSync(join(ws, 'pnpm-lock.yaml'))
    ? 'pnpm'
    : existsSync(join(ws, 'yarn.lock'))
      ? 'yarn'
      : 'npm';
  const evidence = { pnpm: 'pnpm-lock.yaml', yarn: 'yarn.lock', npm: 'package.json' }[tool];
  const run = scripts.length > 0 ? scripts : ['test'];
  const examples = [`${tool} test`, `${tool} run ${run[0]}`];
  return {
    id: tool,
    evidence,
    rule: rule(
      `${tool}-scripts`,
      `${tool} runs this repository's package.json scripts (${run.join(', ')}); they run in the sandbox`,
      [tool, ['test', 'run']],
      examples,
    ),
  };
}

function cargoPreset(ws: string): Preset | undefined {
  if (!existsSync(join(ws, 'Cargo.toml'))) return undefined;
  return {
    id: 'cargo',
    evidence: 'Cargo.toml',
    rule: rule(
      'cargo-build',
      'cargo builds, checks and tests this crate; without network it uses the crates already fetched',
      ['cargo', ['build', 'check', 'test', 'clippy', 'fmt', 'doc']],
      ['cargo test', 'cargo build --release'],
    ),
  };
}

function goPreset(ws: string): Preset | undefined {
  if (!existsSync(join(ws, 'go.mod'))) return undefined;
  return {
    id: 'go',
    evidence: 'go.mod',
    rule: rule(
      'go-build',
      'go builds, vets and tests this module',
      ['go', ['build', 'test', 'vet', 'fmt']],
      ['go test ./...', 'go vet ./...'],
    ),
  };
}

function pytestPreset(ws: string): Preset | undefined {
  const ini = ['pytest.ini', 'tox.ini', 'setup.cfg', 'pyproject.toml'].find((f) => {
    const path = join(ws, f);
    if (!existsSync(path)) return false;
    return f === 'pytest.ini' || /pytest/.test(readFileSync(path, 'utf8'));
  });
  const evidence = ini ?? (existsSync(join(ws, 'conftest.py')) ? 'conftest.py' : undefined);
  if (!evidence) return undefined;
  return {
    id: 'pytest',
    evidence,
    rule: rule(
      'pytest',
      'pytest runs this project’s tests',
      [['pytest', 'py.test']],
      ['pytest', 'pytest -x tests'],
    ),
  };
}

function makePreset(ws: string): Preset | undefined {
  const file = ['Makefile', 'makefile', 'GNUmakefile'].find((f) => existsSync(join(ws, f)));
  if (!file) return undefined;
  const targets = [
    ...readFileSync(join(ws, file), 'utf8').matchAll(/^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?!=)/gm),
  ]
    .map((m) => m[1]!)
    .filter((t, i, all) => all.indexOf(t) === i && !t.startsWith('.'));
  return {
    id: 'make',
    evidence: file,
    rule: rule(
      'make',
      `make runs this repository's ${file} recipes (${targets.slice(0, 8).join(', ') || 'default target'}); they run in the sandbox`,
      ['make'],
      ['make', `make ${targets[0] ?? 'all'}`],
    ),
  };
}

/** The build tools found at the top of `workspace`. */
export function detectPresets(workspace: string): Preset[] {
  return [nodePreset, cargoPreset, goPreset, pytestPreset, makePreset]
    .map((f) => f(workspace))
    .filter((p): p is Preset => p !== undefined);
}

/** The project policy for `presets`, each rule explained. */
export function renderProjectPolicy(presets: readonly Preset[]): string {
  const head = `# Exec policy for this repository, written by \`codex init\` (see docs/execpolicy.md).
# A repository's policy only tightens the defaults until you pin this exact content with
# \`codex policy trust\`; after that, its allow rules apply. Edit it, then trust it again.
version = 1
layer = "project"
`;
  if (presets.length === 0)
    return `${head}
# No build tool was recognised (npm/pnpm/yarn, cargo, go, pytest, make): no rules yet.
# Example:
# [[rule]]
# id = "tests"
# prefix = ["./run-tests.sh"]
# decision = "allow"
# justification = "the project's test runner"
# match = ["./run-tests.sh"]
`;
  return `${head}${presets.map((p) => `\n# found ${p.evidence}\n${p.rule}`).join('')}`;
}

/** The user's config.toml, every key explained, with today's defaults. */
export function renderConfig(): string {
  return `# codex configuration, written by \`codex init\`. Every key is optional; these are the defaults.
# See docs/cli.md (Configuration file). Unknown keys are errors, so a typo never weakens anything.

# The security profile: offline (no network, writes nowhere), workspace-write (writes in the
# workspace only), net-read-only, workspace-net (network through the egress allow-list), trusted
# (no sandbox). Flags: --profile, -s; environment: CODEX_PROFILE.
profile = "offline"

[approval]
# on-request: a command no rule lists runs without asking when the sandbox fully contains it;
# the rest asks. untrusted: everything not allowed by a rule asks. never: nobody is asked.
mode = "on-request"

[sandbox]
# Refuse to run (instead of degrading to a weaker rung) when the full sandbox is unavailable.
require_full_isolation = false
# More paths sandboxed commands may not read, besides the built-in list (~/.ssh, ~/.aws…).
deny_read = []

[audit]
# Every decision is appended to this hash-chained log (relative to CODEX_HOME).
enabled = true
path = "audit/audit.jsonl"
`;
}

function place(path: string, content: string, o: InitOptions): InitFile {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (existing === content) return { path, content, action: 'unchanged' };
  if (existing !== undefined && !o.force) return { path, content, action: 'kept' };
  if (!o.dryRun) {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, path);
  }
  return { path, content, action: existing === undefined ? 'created' : 'overwritten' };
}

/** Writes (or, with `dryRun`, plans) the config and the project policy. */
export function initProject(o: InitOptions): InitResult {
  const presets = detectPresets(o.workspace);
  const files = [
    place(join(o.codexHome, 'config.toml'), renderConfig(), o),
    place(join(o.workspace, '.codex', 'policy.toml'), renderProjectPolicy(presets), o),
  ];
  return { presets, files };
}
