// `codex plugin run` without the terminal: one run of a WASM plugin on this thread (a short-lived
// process saves the worker thread's start), every run and every violation in the config's audit
// log, closed before the result is returned.
import { createAuditLoggerFromConfig } from '@codex/audit';
import type { CodexConfig, SecurityProfile } from '@codex/security-profile';
import { type PluginLimits, type PluginManifest, type PluginRunResult, runPlugin } from '@codex/wasm-plugin';
import { pluginCacheDir } from './plugin-run.js';

export interface PluginOnceOptions {
  readonly config: CodexConfig;
  readonly codexHome: string;
  /** Where granted `env:NAME` values and the audit log's HMAC key come from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly profile: SecurityProfile;
  /** Capabilities granted beyond `stdio` (always granted): `env:NAME`, `clock`, `random`. */
  readonly allow?: readonly string[];
  readonly limits?: Partial<PluginLimits>;
  /** The plugin's stdin. */
  readonly input?: Uint8Array;
  /** The plugin's manifest: it may ask for less than `allow` and `limits`, never for more. */
  readonly manifest?: PluginManifest | undefined;
}

/** Runs the plugin at `path` once, with its compiled code cached under `codexHome`. */
export async function runPluginOnce(path: string, options: PluginOnceOptions): Promise<PluginRunResult> {
  const { config, codexHome, env, profile, manifest } = options;
  const audit = createAuditLoggerFromConfig(config.audit, { home: codexHome, env });
  try {
    return await runPlugin(path, {
      inline: true,
      ...{ allow: ['stdio', ...(options.allow ?? [])], limits: options.limits ?? {}, env, profile },
      ...{ cacheDir: pluginCacheDir(codexHome), audit },
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(manifest ? { manifest } : {}),
    });
  } finally {
    await audit.close();
  }
}
