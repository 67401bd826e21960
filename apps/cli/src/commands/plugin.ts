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
import { intFlag, parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError, usageOn } from '../errors.js';
import { line, table } from '../output.js';

const RUN_OPTIONS = {
  allow: { type: 'string', multiple: true },
  fuel: { type: 'string' },
  timeout: { type: 'string' },
  'timeout-ms': { type: 'string' },
  memory: { type: 'string' },
  'memory-mb': { type: 'string' },
  'max-output': { type: 'string' },
  input: { type: 'string', short: 'i' },
  manifest: { type: 'string' },
} as const;

export const command: Command = {
  summary: 'Run or inspect a sandboxed WebAssembly plugin (fuel, time and memory limits; no fs/network)',
  usage: `Usage: codex plugin run <plugin.wasm> [--allow stdio,env:NAME,clock,random] [--fuel N]
                         [--timeout MS] [--memory MB] [--max-output BYTES]
                         [--input FILE|-] [--manifest FILE] [--json]
       codex plugin inspect <plugin.wasm> [--manifest FILE] [--json]

The plugin reads --input (default: stdin when it is not a terminal) and its stdout/stderr are
passed through. Defaults: fuel ${DEFAULT_LIMITS.fuel}, timeout ${DEFAULT_LIMITS.timeoutMs} ms, memory ${DEFAULT_LIMITS.memoryBytes / 1048576} MB.
Only stdio is granted unless --allow says more; the filesystem, sockets and processes are never
available to a plugin. A manifest (default: <plugin>.plugin.json next to the file) may ask for
less, never for more than the grant and limits. Each run and each violation is written to the
audit log ([audit] in config.toml) as operation plugin_run.

Exit codes: the plugin's own exit code; 1 for a violation (FUEL_EXHAUSTED, PLUGIN_TIMEOUT,
MEMORY_LIMIT, CAPABILITY_DENIED, OUTPUT_LIMIT, PLUGIN_TRAP) or an invalid plugin; 2 for usage.`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, RUN_OPTIONS);
    const [action, file, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (action !== 'run' && action !== 'inspect') {
      throw new UsageError(
        action === undefined
          ? 'missing action for "codex plugin"; use run or inspect'
          : `unknown action "${action}" for "codex plugin"; use run or inspect`,
      );
    }
    if (file === undefined) throw new UsageError(`missing <plugin.wasm> for "codex plugin ${action}"`);
    const path = resolve(ctx.cwd, file);
    const manifest = loadManifest(ctx, path, values.manifest as string | undefined);
    if (action === 'inspect') {
      for (const flag of Object.keys(RUN_OPTIONS)) {
        if (flag !== 'manifest' && values[flag] !== undefined) {
          throw new UsageError(`--${flag} applies to "codex plugin run" only`);
        }
      }
      return inspect(ctx, path, pluginCacheDir(ctx.codexHome), manifest);
    }
    const allow = allowFlags(values.allow as string[] | undefined);
    const limits = limitFlags(values);
    const input = await readInput(ctx, values.input as string | undefined);
    const { config, codexHome, env, profile } = ctx;
    const result = await runPluginOnce(path, {
      config,
      codexHome,
      env,
      profile,
      allow,
      limits,
      input,
      manifest,
    });
    printResult(ctx, file, result);
    return result.exitCode;
  },
};

function allowFlags(raw: readonly string[] | undefined): string[] {
  return usageOn([Error], () => parseAllowList(raw ?? []), '--allow: ');
}

function limitFlags(values: Record<string, unknown>) {
  const limits: { fuel?: number; timeoutMs?: number; memoryBytes?: number; maxOutputBytes?: number } = {};
  const fuel = intFlag('fuel', values.fuel);
  if (fuel !== undefined) limits.fuel = fuel;
  const timeout = intFlag('timeout', values.timeout) ?? intFlag('timeout-ms', values['timeout-ms']);
  if (timeout !== undefined) limits.timeoutMs = timeout;
  const memory = numberFlag(values, 'memory') ?? numberFlag(values, 'memory-mb');
  if (memory !== undefined) limits.memoryBytes = memoryLimitBytes(memory);
  const maxOutput = intFlag('max-output', values['max-output']);
  if (maxOutput !== undefined) limits.maxOutputBytes = maxOutput;
  return limits;
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
  if (ctx.json) {
    line(ctx.stdout, JSON.stringify(info, null, 2));
    return EXIT.OK;
  }
  line(ctx.stdout, table(describePluginInspection(info, manifest)));
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

function numberFlag(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${name} must be a positive number of megabytes, got "${String(raw)}"`);
  }
  return n;
}
