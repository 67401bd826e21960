/** One search result, before fetching. */
export interface SearchHit {
  readonly url: string;
  readonly title: string;
  readonly snippet: string;
  /** Name of the provider that returned it. */
  readonly provider: string;
  /** The provider's own relevance score, when it has one (higher is better). */
  readonly score?: number;
}

/** A fetched source with its extracted main text. */
export interface SourceDocument {
  readonly url: string;
  readonly title: string;
  readonly text: string;
  readonly provider: string;
  /** The domain it counts for in the bias check (see `domainOf`). */
  readonly domain: string;
  readonly fromCache: boolean;
}

export interface SearchOptions {
  /** Most hits wanted. */
  readonly limit: number;
}

/**
 * A source of documents. `local` and `searxng` are built in; an MCP search tool reached through
 * @codex/mcp-permission is meant to implement this same interface (see docs/deep-research.md).
 */
export interface SearchProvider {
  readonly name: string;
  /** True when `search` or `fetch` touch the network; the pipeline then requires a networked profile. */
  readonly requiresNetwork: boolean;
  search(query: string, options: SearchOptions): Promise<SearchHit[]>;
  /** Fetches one hit and returns its main text. Throws a typed CodexError on failure. */
  fetch(hit: SearchHit): Promise<SourceDocument>;
  /** Releases resources (flushes caches). Optional. */
  close?(): Promise<void>;
}
