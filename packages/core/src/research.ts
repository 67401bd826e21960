// The search providers of `codex research`, opened with what they need around them: the fetch
// cache and the audit log (searxng), the MCP permission proxy and its pin store (mcp).
import { join } from 'node:path';
import { createAuditLoggerFromConfig } from '@codex/audit';
import {
  filesystemAdapter,
  HttpClient,
  LocalProvider,
  McpProvider,
  memoryGraphAdapter,
  ResearchCache,
  type SearchProvider,
  SearxngProvider,
} from '@codex/deep-research';
import { connectThroughPermissionProxy, openPinStore } from '@codex/mcp-permission';
import type { CodexConfig, SecurityProfile } from '@codex/security-profile';

export type ResearchProviderOptions = {
  readonly config: CodexConfig;
  readonly codexHome: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly profile: SecurityProfile;
} & (
  | {
      /** Files under `corpus` (an absolute folder); works offline. */
      readonly provider: 'local';
      readonly corpus: string;
    }
  | {
      /** A SearXNG-style search API; fetches are audited and cached in `$CODEX_HOME/cache/research`. */
      readonly provider: 'searxng';
      readonly endpoint: string;
      /** Read and write the fetch cache (default true). */
      readonly cache?: boolean | undefined;
      /** Least time between two requests to one host (default 1000 ms). */
      readonly minIntervalMs?: number | undefined;
    }
  | {
      /** An MCP server's tools, called through the permission proxy (risk, approval, audit). */
      readonly provider: 'mcp';
      readonly adapter: 'filesystem' | 'memory';
      /** The server command and its arguments. */
      readonly command: readonly [string, ...string[]];
      /** The server's environment. */
      readonly serverEnv: Readonly<Record<string, string>>;
      /** The root for the filesystem adapter. */
      readonly corpus: string;
    }
);

/** An opened provider; `close()` flushes the cache, closes the MCP connection and the audit log. */
export interface OpenedResearchProvider {
  readonly provider: SearchProvider;
  close(): Promise<void>;
}

export async function openResearchProvider(
  options: ResearchProviderOptions,
): Promise<OpenedResearchProvider> {
  if (options.provider === 'local')
    return { provider: await LocalProvider.open({ dir: options.corpus }), close: async () => {} };
  const { config, codexHome, env, profile } = options;
  if (options.provider === 'searxng') {
    const cache =
      options.cache === false ? undefined : new ResearchCache({ dir: join(codexHome, 'cache', 'research') });
    const audit = createAuditLoggerFromConfig(config.audit, { home: codexHome, env });
    const close = async () => {
      await cache?.flush();
      await audit.close();
    };
    const http = new HttpClient({ profile, minIntervalMs: options.minIntervalMs ?? 1000 }, { cache, audit });
    const provider = await SearxngProvider.create(options.endpoint, http).catch(async (error: unknown) => {
      await audit.close();
      throw error;
    });
    return { provider, close };
  }
  const { adapter: adapterName, command, serverEnv, corpus } = options;
  const audit = createAuditLoggerFromConfig(config.audit, { home: codexHome, env });
  const mcp = await connectThroughPermissionProxy({
    ...{ server: adapterName, command: command[0], args: command.slice(1), profile, audit },
    ...{ env: serverEnv, inheritFrom: env, pins: openPinStore(codexHome) },
    clientInfo: { name: 'codex-deep-research', version: '0.1.0' },
  }).catch(async (error: unknown) => {
    await audit.close();
    throw error;
  });
  const adapter = adapterName === 'filesystem' ? filesystemAdapter({ root: corpus }) : memoryGraphAdapter();
  const close = async () => {
    await mcp.close();
    await audit.close();
  };
  return { provider: new McpProvider({ client: mcp.client, server: adapterName, adapter }), close };
}
