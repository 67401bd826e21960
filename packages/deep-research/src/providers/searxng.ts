import * as z from '@codex/security-profile/zod';
import { domainOf } from '../bias.js';
import { ProviderResponseError, ResearchConfigError } from '../errors.js';
import { extractMainText, looksLikeHtml } from '../extract.js';
import type { HttpClient } from '../http.js';
import type { SearchHit, SearchOptions, SearchProvider, SourceDocument } from './types.js';

/** The part of SearXNG's `format=json` answer this provider relies on; extra keys are ignored. */
export const searxngResponseSchema = z.object({
  query: z.string().optional(),
  results: z.array(
    z.object({
      url: z.string().url(),
      title: z.string().default(''),
      content: z.string().nullish(),
      engine: z.string().optional(),
      score: z.number().optional(),
    }),
  ),
});

/**
 * Any SearXNG-style JSON search API (`GET <endpoint>/search?q=…&format=json`), with pages fetched
 * through a polite {@link HttpClient} (profile check, robots.txt, rate limit, cache, timeout) and
 * reduced to their main text. Refuses at construction when the profile has no network.
 */
export class SearxngProvider implements SearchProvider {
  readonly name = 'searxng';
  readonly requiresNetwork = true;
  readonly endpoint: URL;
  private readonly http: HttpClient;

  private constructor(endpoint: URL, http: HttpClient) {
    this.endpoint = endpoint;
    this.http = http;
  }

  /** Validates the endpoint and checks (and audits) that the profile allows network access. */
  static async create(endpoint: string, http: HttpClient): Promise<SearxngProvider> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ResearchConfigError('searxng provider', [
        { path: 'endpoint', message: `not a URL: "${endpoint}"` },
      ]);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ResearchConfigError('searxng provider', [
        { path: 'endpoint', message: `must be http(s), got ${url.protocol}` },
      ]);
    }
    await http.assertNetworkAllowed(url.href);
    return new SearxngProvider(url, http);
  }

  /** The search URL for `query`: `<endpoint>/search?q=…&format=json` (or the endpoint itself if it ends in /search). */
  searchUrl(query: string): string {
    const u = new URL(this.endpoint.href);
    if (!u.pathname.endsWith('/search')) u.pathname = `${u.pathname.replace(/\/$/, '')}/search`;
    u.searchParams.set('q', query);
    u.searchParams.set('format', 'json');
    return u.href;
  }

  async search(query: string, options: SearchOptions): Promise<SearchHit[]> {
    const url = this.searchUrl(query);
    const response = await this.http.get(url, 'application/json');
    let json: unknown;
    try {
      json = JSON.parse(response.body);
    } catch (error) {
      throw new ProviderResponseError(this.name, `${url} did not return JSON`, { cause: error });
    }
    const parsed = searxngResponseSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProviderResponseError(
        this.name,
        `${url}: unexpected response at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data.results.slice(0, options.limit).map((r) => ({
      url: r.url,
      title: r.title,
      snippet: r.content ?? '',
      provider: this.name,
      ...(r.score === undefined ? {} : { score: r.score }),
    }));
  }

  async fetch(hit: SearchHit): Promise<SourceDocument> {
    const response = await this.http.get(hit.url);
    const page = looksLikeHtml(response.contentType, response.body)
      ? extractMainText(response.body)
      : { title: '', text: response.body };
    return {
      url: hit.url,
      title: page.title || hit.title || hit.url,
      text: page.text,
      provider: this.name,
      domain: domainOf(hit.url),
      fromCache: response.fromCache,
    };
  }
}
