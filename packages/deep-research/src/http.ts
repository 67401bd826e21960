import {
  type AuditDecision,
  type AuditSink,
  capabilitiesOf,
  SECURITY_PROFILES,
  type SecurityProfile,
} from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import robotsParserModule from 'robots-parser';
import { checkDomain, type DomainListsInput } from './bias.js';
import type { CachedValue, ResearchCache } from './cache.js';
import { FetchError, NetworkDeniedError, RobotsDisallowedError } from './errors.js';
import { parseOptions } from './options.js';

export const DEFAULT_USER_AGENT =
  'codex-deep-research/0.1 (+https://www.npmjs.com/package/@codex/deep-research)';

export const httpOptionsSchema = z
  .object({
    /** The effective security profile; fetching needs one whose network capability is `full`. */
    profile: z.enum(SECURITY_PROFILES),
    /** Sent on every request and matched against robots.txt groups. */
    userAgent: z.string().min(1).default(DEFAULT_USER_AGENT),
    /** Per-request timeout (connect + headers + body). Default 10 s. */
    timeoutMs: z.number().int().positive().default(10_000),
    /** Minimum gap between two requests to the same host. Default 1 s (one request per second per host). */
    minIntervalMs: z.number().int().nonnegative().default(1000),
    /** Largest body read; longer bodies fail with RESEARCH_TOO_LARGE. Default 2 MiB. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(2 * 1024 * 1024),
    /** Obey robots.txt (fetched once per origin, cached like any URL). Default true. */
    respectRobots: z.boolean().default(true),
    /**
     * Redirects followed. Each hop is checked like a new URL (profile, domain lists, robots.txt,
     * rate limit, audit), so a redirect cannot lead around a block list. Default 5.
     */
    maxRedirects: z.number().int().min(0).max(20).default(5),
    /** Longest Crawl-delay from robots.txt that is honoured (longer ones are capped). Default 10 s. */
    maxCrawlDelayMs: z.number().int().nonnegative().default(10_000),
  })
  .strict();
export type HttpOptionsInput = z.input<typeof httpOptionsSchema>;

export interface HttpDeps {
  /** The fetch implementation; the global `fetch` unless a host injects another real one. */
  readonly fetch?: typeof globalThis.fetch;
  readonly cache?: ResearchCache | undefined;
  readonly audit?: AuditSink | undefined;
  readonly domains?: DomainListsInput | undefined;
  /** Clock (ms) for rate limiting. */
  readonly now?: () => number;
  /** How rate limiting waits. Default: a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly fromCache: boolean;
}

export interface HttpStats {
  requests: number;
  cacheHits: number;
  robotsDenied: number;
  rateLimitWaitMs: number;
}

interface RobotsRules {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
}
// robots-parser is CommonJS whose bundled typings do not resolve under NodeNext; its export is the function.
const robotsParser = robotsParserModule as unknown as (url: string, contents: string) => RobotsRules;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A polite HTTP GET client for research fetches: profile check (and audit) before any request,
 * domain allow/block lists, cache (successes and failures), robots.txt, per-host rate limit,
 * User-Agent, timeout and body-size limit.
 */
export class HttpClient {
  readonly options: z.output<typeof httpOptionsSchema>;
  readonly stats: HttpStats = { requests: 0, cacheHits: 0, robotsDenied: 0, rateLimitWaitMs: 0 };
  private readonly deps: HttpDeps;
  private readonly nextSlot = new Map<string, number>();
  private readonly crawlDelay = new Map<string, number>();
  private readonly robots = new Map<string, Promise<(url: string) => boolean>>();

  constructor(options: HttpOptionsInput, deps: HttpDeps = {}) {
    this.options = parseOptions(httpOptionsSchema, options, 'http options');
    this.deps = deps;
  }

  /** Throws {@link NetworkDeniedError} (after auditing the denial) unless the profile allows network. */
  async assertNetworkAllowed(target: string): Promise<void> {
    const profile: SecurityProfile = this.options.profile;
    if (capabilitiesOf(profile).network !== 'none') return;
    await this.audit(target, 'denied', `profile ${profile} has no network access`);
    throw new NetworkDeniedError(profile, target);
  }

  private async audit(target: string, decision: AuditDecision, reason: string): Promise<void> {
    await this.deps.audit?.log({
      profile: this.options.profile,
      operation: 'network_access',
      agent_type: 'deep-research',
      target,
      decision,
      reason,
    });
  }

  /** GETs `url`, from the cache when fresh. Failures are thrown as typed errors (and cached). */
  async get(
    url: string,
    accept = 'text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5',
    hops = 0,
  ): Promise<HttpResponse> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new FetchError('RESEARCH_FETCH_FAILED', url, 'not a valid URL', { cause: error });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new FetchError('RESEARCH_FETCH_FAILED', url, `unsupported scheme ${parsed.protocol}`);
    }
    await this.assertNetworkAllowed(url);
    checkDomain(url, this.deps.domains);
    const cached = await this.deps.cache?.get(url);
    if (cached) {
      this.stats.cacheHits++;
      return fromCached(url, cached);
    }
    if (this.options.respectRobots && parsed.pathname !== '/robots.txt') {
      const allowed = await this.robotsFor(parsed);
      if (!allowed(url)) {
        this.stats.robotsDenied++;
        const error = new RobotsDisallowedError(url);
        await this.deps.cache?.set(url, { ok: false, code: error.code, message: error.message });
        await this.audit(url, 'denied', 'disallowed by robots.txt');
        throw error;
      }
    }
    try {
      const outcome = await this.request(parsed, accept);
      if ('location' in outcome) {
        if (hops >= this.options.maxRedirects) {
          throw new FetchError(
            'RESEARCH_FETCH_FAILED',
            url,
            `more than ${this.options.maxRedirects} redirects`,
          );
        }
        let target: string;
        try {
          target = new URL(outcome.location, url).href;
        } catch (error) {
          throw new FetchError('RESEARCH_FETCH_FAILED', url, `bad redirect location "${outcome.location}"`, {
            cause: error,
          });
        }
        const final = await this.get(target, accept, hops + 1);
        const { status, contentType, body } = final;
        await this.deps.cache?.set(url, { ok: true, status, contentType, body });
        return final;
      }
      await this.deps.cache?.set(url, { ok: true, ...outcome });
      return { url, ...outcome, fromCache: false };
    } catch (error) {
      if (error instanceof FetchError) {
        await this.deps.cache?.set(url, {
          ok: false,
          code: error.code,
          message: error.message,
          ...(error.status === undefined ? {} : { status: error.status }),
        });
      }
      throw error;
    }
  }

  private robotsFor(url: URL): Promise<(url: string) => boolean> {
    const origin = url.origin;
    let pending = this.robots.get(origin);
    if (!pending) {
      pending = this.loadRobots(origin);
      this.robots.set(origin, pending);
    }
    return pending;
  }

  /** RFC 9309: 4xx means no rules; 5xx or unreachable means disallow everything. */
  private async loadRobots(origin: string): Promise<(url: string) => boolean> {
    const robotsUrl = `${origin}/robots.txt`;
    let text: string;
    try {
      text = (await this.get(robotsUrl, 'text/plain')).body;
    } catch (error) {
      if (
        error instanceof FetchError &&
        error.status !== undefined &&
        error.status >= 400 &&
        error.status < 500
      ) {
        return () => true;
      }
      return () => false;
    }
    const robots = robotsParser(robotsUrl, text);
    const delay = robots.getCrawlDelay(this.options.userAgent);
    if (delay !== undefined && delay > 0) {
      this.crawlDelay.set(new URL(origin).host, Math.min(delay * 1000, this.options.maxCrawlDelayMs));
    }
    return (u) => robots.isAllowed(u, this.options.userAgent) !== false;
  }

  /** Waits for the host's next slot: at most one request per `minIntervalMs` (or Crawl-delay). */
  private async throttle(host: string): Promise<void> {
    const now = (this.deps.now ?? Date.now)();
    const interval = Math.max(this.options.minIntervalMs, this.crawlDelay.get(host) ?? 0);
    const slot = Math.max(now, this.nextSlot.get(host) ?? 0);
    this.nextSlot.set(host, slot + interval);
    const wait = slot - now;
    if (wait > 0) {
      this.stats.rateLimitWaitMs += wait;
      await (this.deps.sleep ?? realSleep)(wait);
    }
  }

  private async request(
    url: URL,
    accept: string,
  ): Promise<Omit<HttpResponse, 'url' | 'fromCache'> | { location: string }> {
    const href = url.href;
    await this.throttle(url.host);
    await this.audit(href, 'allowed', `GET under profile ${this.options.profile}`);
    this.stats.requests++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const response = await (this.deps.fetch ?? globalThis.fetch)(href, {
        headers: { 'user-agent': this.options.userAgent, accept },
        redirect: 'manual',
        signal: controller.signal,
      });
      if (response.status === 429 || response.status === 503) {
        const retry = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retry) && retry > 0) {
          const now = (this.deps.now ?? Date.now)();
          this.nextSlot.set(url.host, Math.max(this.nextSlot.get(url.host) ?? 0, now + retry * 1000));
        }
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        return { location };
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new FetchError('RESEARCH_HTTP_STATUS', href, `HTTP ${response.status}`, {
          status: response.status,
        });
      }
      const body = await readLimited(response, this.options.maxBytes, href);
      return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
    } catch (error) {
      if (error instanceof FetchError) throw error;
      if (controller.signal.aborted) {
        throw new FetchError('RESEARCH_FETCH_TIMEOUT', href, `timed out after ${this.options.timeoutMs} ms`);
      }
      const cause =
        error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new FetchError('RESEARCH_FETCH_FAILED', href, cause, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

async function readLimited(response: Response, maxBytes: number, url: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FetchError('RESEARCH_TOO_LARGE', url, `body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function fromCached(url: string, value: CachedValue): HttpResponse {
  if (value.ok)
    return { url, status: value.status, contentType: value.contentType, body: value.body, fromCache: true };
  const code = value.code;
  if (code === 'RESEARCH_ROBOTS_DISALLOWED') throw new RobotsDisallowedError(url);
  const known =
    code === 'RESEARCH_FETCH_TIMEOUT' || code === 'RESEARCH_HTTP_STATUS' || code === 'RESEARCH_TOO_LARGE'
      ? code
      : 'RESEARCH_FETCH_FAILED';
  const message = value.message.startsWith(`${url}: `) ? value.message.slice(url.length + 2) : value.message;
  throw new FetchError(
    known,
    url,
    `${message} (cached failure)`,
    value.status === undefined ? {} : { status: value.status },
  );
}
