// `codex plugin run` without the terminal: one WASM plugin run on the calling thread, with the grant
// every plugin has (stdio), the shared build cache and the config's audit log, closed before the
// result is returned.
import { createAuditLoggerFromConfig } from '@codex/audit';
import type { CodexConfig, SecurityProfile } from '@codex/security-profile';
import { type PluginLimits, type PluginManifest, type PluginRunResult, runPlugin } from '@codex/wasm-plugin';
import { pluginCacheDir } from './plugin-run.js';

export interface PluginOnceOptions {
  readonly config: CodexConfig;
  /** CODEX_HOME: the audit log and the build cache ({@link pluginCacheDir}) are under it. */
  readonly codexHome: string;
  /** Where the audit log's HMAC key and granted `env:NAME` values are read. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The profile recorded in the audit entries. */
  readonly profile: SecurityProfile;
  /** Capabilities granted beyond `stdio` (`env:NAME`, `clock`, `random`). */
  readonly allow?: readonly string[];
  readonly limits?: Partial<PluginLimits>;
  /** The plugin's stdin. */
  readonly input?: Uint8Array;
  /** The plugin's manifest: it may ask for less than the grant and limits, never more. */
  readonly manifest?: PluginManifest | undefined;
}

/** Runs the plugin at `path` once; the run and every violation go to the `[audit]` log. */
export async function runPluginOnce(path: string, options: PluginOnceOptions): Promise<PluginRunResult> {
  const { config, codexHome, env, profile, manifest } = options;
  const audit = createAuditLoggerFromConfig(config.audit, { home: codexHome, env });
  try {
    return await runPlugin(path, {
      inline: true, // one run in a short-lived process: no worker thread start
      ...{ allow: ['stdio', ...(options.allow ?? [])], limits: options.limits ?? {}, env, profile },
      ...{ cacheDir: pluginCacheDir(codexHome), audit },
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(manifest ? { manifest } : {}),
    });
  } finally {
    await audit.close();
  }
}
