import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pluginCacheDir, runPluginOnce } from '@codex/core';
import {
  DEFAULT_LIMITS,
  describePluginInspection,
  inspectPlugin,
  ManifestUnreadableError,
  memoryLimitBytes,
  type PluginManifest,
  type PluginRunResult,
  parseAllowList,
  pluginRunJson,
  readPluginManifest,
  readStdinInput,
} from '@codex/wasm-plugin';
import type { CliContext } from '../context.js';
import { EXIT, UsageError, usageOn } from '../errors.js';
import { line, print, table } from '../output.js';
import { MAX_TIMER } from '../run-flags.js';
import { action, type Command, defined, type Flags, int, list, str, type Values } from '../spec.js';

const MANIFEST = {
  manifest: str('FILE', 'the manifest (default: <plugin>.plugin.json next to the plugin)'),
} as const satisfies Flags;

const RUN = {
  allow: list('stdio,env:NAME,clock,random', 'capabilities to grant (default: stdio only)'),
  fuel: int('N', `instructions the plugin may run (default ${DEFAULT_LIMITS.fuel})`),
  timeout: int('MS', `wall-clock limit (default ${DEFAULT_LIMITS.timeoutMs} ms)`, MAX_TIMER),
  'timeout-ms': int('MS', undefined, MAX_TIMER),
  memory: str('MB', `linear memory limit (default ${DEFAULT_LIMITS.memoryBytes / 1048576} MB)`),
  'memory-mb': str('MB'),
  'max-output': int('BYTES', 'most bytes of stdout and of stderr'),
  input: str('FILE|-', "the plugin's stdin (default: stdin when it is not a terminal)", 'i'),
  ...MANIFEST,
} as const satisfies Flags;

export const command: Command = {
  help: `The plugin's stdout/stderr are passed through. Only stdio is granted unless --allow says more;
the filesystem, sockets and processes are never available to a plugin. A manifest may ask for
less, never for more than the grant and limits. Each run and each violation is written to the
audit log ([audit] in config.toml) as operation plugin_run.

Exit codes: the plugin's own exit code; 1 for a violation (FUEL_EXHAUSTED, PLUGIN_TIMEOUT,
MEMORY_LIMIT, CAPABILITY_DENIED, OUTPUT_LIMIT, PLUGIN_TRAP) or an invalid plugin; 2 for usage.`,
  actions: {
    run: action({
      args: '<plugin.wasm>',
      flags: RUN,
      async run(ctx, { values, args: [file] }) {
        const path = resolve(ctx.cwd, file!);
        const result = await runPluginOnce(path, {
          ...{ config: ctx.config, codexHome: ctx.codexHome, env: ctx.env, profile: ctx.profile },
          manifest: loadManifest(ctx, path, values.manifest),
          allow: usageOn([Error], () => parseAllowList(values.allow ?? []), '--allow: '),
          limits: limitFlags(values),
          input: await readInput(ctx, values.input),
        });
        printResult(ctx, file!, result);
        return result.exitCode;
      },
    }),
    inspect: action({
      args: '<plugin.wasm>',
      flags: MANIFEST,
      run(ctx, { values, args: [file] }) {
        const path = resolve(ctx.cwd, file!);
        return inspect(ctx, path, pluginCacheDir(ctx.codexHome), loadManifest(ctx, path, values.manifest));
      },
    }),
  },
};

function limitFlags(values: Values<typeof RUN>) {
  const memory = numberFlag(values, 'memory') ?? numberFlag(values, 'memory-mb');
  return defined({
    fuel: values.fuel,
    timeoutMs: values.timeout ?? values['timeout-ms'],
    memoryBytes: memory === undefined ? undefined : memoryLimitBytes(memory),
    maxOutputBytes: values['max-output'],
  });
}

function printResult(ctx: CliContext, file: string, result: PluginRunResult): void {
  if (ctx.json) {
    line(ctx.stdout, JSON.stringify(pluginRunJson(file, result), null, 2));
    return;
  }
  ctx.stdout.write(result.stdout);
  ctx.stderr.write(result.stderr);
}

async function inspect(
  ctx: CliContext,
  path: string,
  cacheDir: string,
  manifest: PluginManifest | undefined,
): Promise<number> {
  const info = await inspectPlugin(path, { cacheDir, ...(manifest ? { manifest } : {}) });
  print(ctx, info, () => table(describePluginInspection(info, manifest)));
  return EXIT.OK;
}

/** --manifest, else the sidecar next to the plugin; an unreadable file is a usage error. */
function loadManifest(ctx: CliContext, pluginPath: string, flag: string | undefined) {
  const given = flag === undefined ? undefined : resolve(ctx.cwd, flag);
  return usageOn([ManifestUnreadableError], () => readPluginManifest(pluginPath, given));
}

/** --input FILE, else stdin (`-`, or no --input: then nothing from a terminal). */
async function readInput(ctx: CliContext, input: string | undefined): Promise<Uint8Array> {
  if (input === undefined || input === '-') return readStdinInput({ emptyOnTerminal: input === undefined });
  try {
    return readFileSync(resolve(ctx.cwd, input));
  } catch (error) {
    throw new UsageError(`cannot read --input ${input}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

function numberFlag(values: Values<typeof RUN>, name: 'memory' | 'memory-mb'): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive number of megabytes, got "${String(raw)}"`);
  }
  return n;
}
