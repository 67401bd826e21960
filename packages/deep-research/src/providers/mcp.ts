import * as z from '@codex/security-profile/zod';
import { McpToolError, ProviderResponseError } from '../errors.js';
import { extractMainText } from '../extract.js';
import { keywords } from '../text.js';
import type { SearchHit, SearchOptions, SearchProvider, SourceDocument } from './types.js';

/** What the provider needs of an MCP client: `tools/call`. The SDK's `Client` fits. */
export interface McpToolClient {
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
}

/** One tool call. */
export interface McpCall {
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
}

/** An item a search call returned: an id the fetch call understands, and optionally its text. */
export interface McpItem {
  readonly id: string;
  readonly title: string;
  readonly text?: string;
}

/** The text of a `tools/call` result (its text content items joined). */
export interface McpToolText {
  readonly text: string;
}

/**
 * How to use one MCP server's tools as a search provider: which calls a query becomes, how to read
 * their results, and (optionally) how to fetch one item.
 */
export interface McpSearchAdapter {
  searchCalls(query: string, limit: number): McpCall[];
  parseSearch(result: McpToolText, call: McpCall): McpItem[];
  fetchCall?(id: string): McpCall;
  parseFetch?(result: McpToolText, id: string): { title?: string; text: string };
}

const toolResultSchema = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough()).default([]),
  isError: z.boolean().optional(),
});

/**
 * A search provider backed by MCP tools, called through an MCP client — normally one connected
 * to `@codex/mcp-permission`'s proxy (its `connectThroughPermissionProxy`), so every call is
 * risk-classified, approved or denied under the profile, and audited there. A denied call surfaces
 * as `RESEARCH_MCP_TOOL_FAILED` carrying the proxy's reason.
 */
export class McpProvider implements SearchProvider {
  readonly name: string;
  readonly requiresNetwork: boolean;
  readonly server: string;
  private readonly client: McpToolClient;
  private readonly adapter: McpSearchAdapter;
  private readonly items = new Map<string, McpItem>();

  constructor(options: {
    client: McpToolClient;
    server: string;
    adapter: McpSearchAdapter;
    /** Whether the server's tools reach the network (decides nothing here; reported to callers). Default false. */
    requiresNetwork?: boolean;
  }) {
    this.client = options.client;
    this.server = options.server;
    this.adapter = options.adapter;
    this.requiresNetwork = options.requiresNetwork ?? false;
    this.name = `mcp:${options.server}`;
  }

  private async call(call: McpCall): Promise<McpToolText> {
    let raw: unknown;
    try {
      raw = await this.client.callTool({ name: call.tool, arguments: call.arguments });
    } catch (error) {
      throw new McpToolError(this.server, call.tool, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    const parsed = toolResultSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ProviderResponseError(this.name, `${call.tool} returned an unexpected result shape`);
    }
    const text = parsed.data.content
      .filter((c) => c.type === 'text')
      .map((c) => c.text ?? '')
      .join('\n');
    if (parsed.data.isError)
      throw new McpToolError(this.server, call.tool, text.split('\n')[0] ?? 'tool error');
    return { text };
  }

  urlOf(id: string): string {
    return `mcp://${encodeURIComponent(this.server)}/${encodeURIComponent(id)}`;
  }

  async search(query: string, options: SearchOptions): Promise<SearchHit[]> {
    const found = new Map<string, { item: McpItem; score: number; order: number }>();
    for (const call of this.adapter.searchCalls(query, options.limit)) {
      const result = await this.call(call);
      for (const item of this.adapter.parseSearch(result, call)) {
        const prev = found.get(item.id);
        if (prev) prev.score++;
        else found.set(item.id, { item, score: 1, order: found.size });
        this.items.set(item.id, item);
      }
    }
    return [...found.values()]
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .slice(0, options.limit)
      .map(({ item, score }) => ({
        url: this.urlOf(item.id),
        title: item.title,
        snippet: (item.text ?? '').slice(0, 200),
        provider: this.name,
        score,
      }));
  }

  async fetch(hit: SearchHit): Promise<SourceDocument> {
    const id = decodeURIComponent(hit.url.slice(this.urlOf('').length));
    const known = this.items.get(id);
    let title = known?.title ?? hit.title;
    let text: string;
    if (this.adapter.fetchCall) {
      const result = await this.call(this.adapter.fetchCall(id));
      const page = this.adapter.parseFetch ? this.adapter.parseFetch(result, id) : { text: result.text };
      text = page.text;
      title = page.title || title;
    } else if (known?.text !== undefined) {
      text = known.text;
    } else {
      throw new ProviderResponseError(this.name, `no text for ${id} and no fetch tool`);
    }
    return { url: hit.url, title, text, provider: this.name, domain: `mcp:${this.server}`, fromCache: false };
  }
}

/**
 * Adapter for `@modelcontextprotocol/server-filesystem`: each content word of the query becomes a
 * case-insensitive `search_files` glob (`**\/*word*`) under `root`; a file matching more words ranks higher; hits are
 * read with `read_text_file` (HTML reduced to its main text). Both tools are `medium` risk.
 */
export function filesystemAdapter(options: {
  root: string;
  extensions?: readonly string[];
  maxTerms?: number;
}): McpSearchAdapter {
  const exts = options.extensions ?? ['.txt', '.md', '.markdown', '.html', '.htm'];
  return {
    searchCalls: (query) =>
      [...new Set(keywords(query))].slice(0, options.maxTerms ?? 5).map((word) => ({
        tool: 'search_files',
        arguments: { path: options.root, pattern: `**/*${anyCase(word)}*` },
      })),
    parseSearch: (result) =>
      result.text
        .split('\n')
        .map((l) => l.trim())
        .filter(
          (l) => l.length > 0 && l !== 'No matches found' && exts.some((e) => l.toLowerCase().endsWith(e)),
        )
        .map((path) => ({ id: path, title: path.split(/[\\/]/).pop() ?? path })),
    fetchCall: (id) => ({ tool: 'read_text_file', arguments: { path: id } }),
    parseFetch: (result, id) => (/\.html?$/i.test(id) ? extractMainText(result.text) : { text: result.text }),
  };
}

/** `thread` → `[tT][hH][rR][eE][aA][dD]`: the server's globs are case-sensitive. */
function anyCase(word: string): string {
  return [...word]
    .map((c) =>
      c.toLowerCase() === c.toUpperCase()
        ? c.replace(/[[\]*?{}()!\\]/g, '\\$&')
        : `[${c.toLowerCase()}${c.toUpperCase()}]`,
    )
    .join('');
}

const graphSchema = z.object({
  entities: z.array(
    z.object({
      name: z.string(),
      entityType: z.string().default(''),
      observations: z.array(z.string()).default([]),
    }),
  ),
});

/**
 * Adapter for `@modelcontextprotocol/server-memory` (a knowledge graph): each content word becomes a
 * `search_nodes` call; an entity's observations are its text, so no fetch call is needed.
 */
export function memoryGraphAdapter(options: { maxTerms?: number } = {}): McpSearchAdapter {
  return {
    searchCalls: (query) =>
      [...new Set(keywords(query))]
        .slice(0, options.maxTerms ?? 5)
        .map((word) => ({ tool: 'search_nodes', arguments: { query: word } })),
    parseSearch: (result) => {
      let json: unknown;
      try {
        json = JSON.parse(result.text);
      } catch (error) {
        throw new ProviderResponseError('mcp:memory', 'search_nodes did not return JSON', { cause: error });
      }
      const graph = graphSchema.safeParse(json);
      if (!graph.success)
        throw new ProviderResponseError('mcp:memory', 'search_nodes returned no entities list');
      return graph.data.entities.map((e) => ({
        id: e.name,
        title: e.entityType ? `${e.name} (${e.entityType})` : e.name,
        text: e.observations.join('\n\n'),
      }));
    },
  };
}
