// What a host (`codex plugin run|inspect`) reads before a run and shows after it: the grant from
// comma lists, a memory limit in megabytes, the manifest (given, or the sidecar next to the
// plugin), the input from stdin, the inspection as rows and the run's result as JSON.
import { existsSync, fstatSync, readFileSync, readSync } from 'node:fs';
import { isatty } from 'node:tty';
import { parseCapability } from './capabilities.js';
import { ManifestUnreadableError } from './errors.js';
import type { PluginInspection } from './inspect.js';
import { WASM_PAGE } from './limits.js';
import { type PluginManifest, parseManifestJson } from './manifest.js';
import { type PluginRunResult, sidecarManifestPath } from './plugin.js';

/**
 * The capabilities of `--allow` values (repeatable, comma-separated), each checked; an unknown
 * or never-grantable one throws with the reason (`"fs" can never be granted…`).
 */
export function parseAllowList(values: readonly string[]): string[] {
  const allow = values.flatMap((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const a of allow) parseCapability(a);
  return allow;
}

/** A memory limit given in megabytes (fractions allowed), in bytes rounded down to whole wasm pages. */
export function memoryLimitBytes(megabytes: number): number {
  return Math.floor((megabytes * 1048576) / WASM_PAGE) * WASM_PAGE;
}

/**
 * The manifest of a plugin: the file `manifestPath` names, else the sidecar next to the plugin
 * (`x.wasm` → `x.plugin.json`) when there is one. An unreadable file is `MANIFEST_UNREADABLE`;
 * an invalid one `INVALID_MANIFEST`.
 */
export function readPluginManifest(pluginPath: string, manifestPath?: string): PluginManifest | undefined {
  const path = manifestPath ?? sidecarManifestPath(pluginPath);
  if (manifestPath === undefined && !existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ManifestUnreadableError(path, (error as NodeJS.ErrnoException).code ?? String(error));
  }
  return parseManifestJson(text, path);
}

/**
 * This process's stdin, read to its end, as a plugin's input; empty when `emptyOnTerminal` and
 * stdin is a terminal (the plugin then gets no input instead of waiting for typing).
 *
 * A file on stdin is read directly. A pipe or socket is read directly too, as far as it goes
 * without blocking (building process.stdin costs a one-shot run a few ms); a non-blocking one
 * (what a Node parent's `stdio: 'pipe'` may give) answers EAGAIN when the writer is slower, and
 * the rest then comes through process.stdin, after what was read.
 */
export async function readStdinInput(options: { emptyOnTerminal?: boolean } = {}): Promise<Uint8Array> {
  if (isFile(0)) return readFileSync(0);
  if (options.emptyOnTerminal && isatty(0)) return new Uint8Array();
  const chunks: Buffer[] = [];
  if (readAvailable(chunks)) return Buffer.concat(chunks);
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads stdin into `chunks` until its end (true) or until it would block (false). */
function readAvailable(chunks: Buffer[]): boolean {
  for (;;) {
    const buf = Buffer.allocUnsafe(65536);
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return false;
      if ((error as NodeJS.ErrnoException).code === 'EOF') return true;
      throw error;
    }
    if (n === 0) return true;
    chunks.push(buf.subarray(0, n));
  }
}

function isFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false; // no stdin at all: process.stdin reads as empty
  }
}

/** An inspection as `[name, value]` rows: kind, hash, imports and exports, capabilities, manifest. */
export function describePluginInspection(
  info: PluginInspection,
  manifest?: PluginManifest,
): [string, string][] {
  const rows: [string, string][] = [
    ['kind', info.kind],
    ['sha256', info.sha256],
    ['exports', info.exports.join(', ') || '-'],
    ['imports', info.imports.join(', ') || '-'],
    ['capabilities used', info.capabilities.requested.join(', ')],
    ['never linked (stubbed to fail)', info.capabilities.stubbed.join(', ') || '-'],
    ['refused imports', info.capabilities.refused.join(', ') || '-'],
  ];
  if (info.coreImports.length > 0) rows.push(['preview1 imports', info.coreImports.join(', ')]);
  if (manifest) {
    rows.push(['manifest', `${manifest.name}@${manifest.version}`]);
    const requests = manifest.capabilities.map((c) => (c.kind === 'env' ? `env:${c.name}` : c.kind));
    rows.push(['manifest requests', requests.join(', ')]);
  }
  return rows;
}

/** A run's result as JSON, its output decoded as UTF-8 (what `codex plugin run --json` prints). */
export function pluginRunJson(plugin: string, result: PluginRunResult): Record<string, unknown> {
  const decoder = new TextDecoder();
  const { exitCode, fuelUsed, capabilities, limits, sha256, cache } = result;
  return {
    ...{ plugin, exitCode, stdout: decoder.decode(result.stdout), stderr: decoder.decode(result.stderr) },
    ...{ fuelUsed, durationMs: Math.round(result.durationMs * 10) / 10, capabilities, limits, sha256, cache },
  };
}
