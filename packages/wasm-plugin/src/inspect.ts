import { basename } from 'node:path';
import { compilePlugin } from './compile.js';
import { capabilityOfInterface, LINKABLE_INTERFACES } from './host.js';
import { resolveLimits } from './limits.js';
import type { PluginManifest } from './manifest.js';
import { readPluginFile } from './plugin.js';

export interface PluginInspection {
  readonly kind: 'module' | 'component';
  readonly sha256: string;
  /** Unversioned WIT interfaces the (wrapped) component imports. */
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  /** For core modules: the raw `wasi_snapshot_preview1` functions it imports. */
  readonly coreImports: readonly string[];
  /** Capabilities the imports can use, and which of them are never linked for real. */
  readonly capabilities: {
    readonly requested: readonly string[];
    readonly stubbed: readonly string[];
    readonly refused: readonly string[];
  };
  readonly manifest?: PluginManifest;
}

/** What a plugin imports and exports and which capabilities that implies. */
export async function inspectPlugin(
  source: string | Uint8Array,
  options: { cacheDir?: string; manifest?: PluginManifest; label?: string } = {},
): Promise<PluginInspection> {
  const label = options.label ?? (typeof source === 'string' ? basename(source) : 'plugin.wasm');
  const bytes = typeof source === 'string' ? readPluginFile(source, label) : source;
  const compiled = await compilePlugin(bytes, {
    memoryBytes: resolveLimits(undefined).memoryBytes,
    label,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  });
  let coreImports: string[] = [];
  if (compiled.kind === 'module') {
    coreImports = WebAssembly.Module.imports(new WebAssembly.Module(bytes as BufferSource)).map(
      (i) => `${i.module}.${i.name}`,
    );
  }
  const requested = new Set<string>(['stdio']);
  const stubbed = new Set<string>();
  const refused: string[] = [];
  for (const i of compiled.imports) {
    const cap = capabilityOfInterface(i);
    if (cap === 'clock' || cap === 'random') requested.add(cap);
    else if (cap === 'fs' || cap === 'sockets') stubbed.add(cap);
    else if (!(LINKABLE_INTERFACES as readonly string[]).includes(i)) refused.push(i);
  }
  if (compiled.imports.includes('wasi:cli/environment')) requested.add('env');
  return {
    kind: compiled.kind,
    sha256: compiled.sha256,
    imports: compiled.imports,
    exports: compiled.exports,
    coreImports,
    capabilities: { requested: [...requested], stubbed: [...stubbed], refused },
    ...(options.manifest ? { manifest: options.manifest } : {}),
  };
}
