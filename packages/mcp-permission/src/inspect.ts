import type { SecurityProfile } from '@codex/security-profile';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { evaluateTool } from './approval.js';
import type { McpProxyConfig } from './config.js';
import { hashTool, type PinStatus, type PinStore } from './pins.js';
import type { RiskLevel, RiskSource } from './risk.js';

/** One row of {@link inspectTools}. */
export interface ToolReport {
  readonly name: string;
  readonly risk: RiskLevel;
  readonly source: RiskSource;
  readonly reasons: readonly string[];
  /** Whether a call would need approval under the profile. */
  readonly requiresApproval: boolean;
  readonly forbidden: boolean;
  /** Compared with the pin store without changing it; `unpinned` when there is no store. */
  readonly pin: PinStatus | 'unpinned';
}

/**
 * Connects to a server as a plain MCP client, lists every tool (all pages) and reports what the
 * proxy would decide about each, without pinning anything. For `codex mcp inspect` and for
 * writing a proxy config.
 */
export async function inspectTools(options: {
  server: string;
  upstream: Transport;
  profile: SecurityProfile;
  config?: McpProxyConfig;
  pins?: PinStore;
}): Promise<ToolReport[]> {
  const client = new Client({ name: 'codex-mcp-inspect', version: '0.1.0' }, { capabilities: {} });
  await client.connect(options.upstream);
  try {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await client.listTools(cursor ? { cursor } : {});
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tools.map((tool) => {
      const e = evaluateTool(tool, {
        server: options.server,
        profile: options.profile,
        ...(options.config ? { config: options.config } : {}),
      });
      let pin: ToolReport['pin'] = 'unpinned';
      if (options.pins) {
        const stored = options.pins.get(options.server, tool.name);
        pin = stored === undefined ? 'new' : stored.hash === hashTool(tool) ? 'same' : 'changed';
      }
      return {
        name: tool.name,
        risk: e.permission.riskLevel,
        source: e.classification.source,
        reasons: e.classification.reasons,
        requiresApproval: e.approval || pin === 'changed',
        forbidden: e.forbidden,
        pin,
      };
    });
  } finally {
    await client.close();
  }
}
