import { CodexError, type ConfigIssue } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type DeepResearchErrorCode =
  | 'RESEARCH_BAD_PROVIDER_RESPONSE'
  | 'RESEARCH_CACHE'
  | 'RESEARCH_CORPUS'
  | 'RESEARCH_DOMAIN_BLOCKED'
  | 'RESEARCH_FETCH_FAILED'
  | 'RESEARCH_FETCH_TIMEOUT'
  | 'RESEARCH_HTTP_STATUS'
  | 'RESEARCH_INVALID_CONFIG'
  | 'RESEARCH_MCP_TOOL_FAILED'
  | 'RESEARCH_NETWORK_DENIED'
  | 'RESEARCH_NO_SOURCES'
  | 'RESEARCH_ROBOTS_DISALLOWED'
  | 'RESEARCH_TOO_LARGE';

/** Options or config handed to a deep-research component failed validation. */
export class ResearchConfigError extends CodexError<DeepResearchErrorCode> {
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    const first = issues[0];
    const where = first ? `${first.path || '(root)'}: ${first.message}` : 'invalid options';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('RESEARCH_INVALID_CONFIG', `${source}: ${where}${more}`);
    this.source = source;
    this.issues = issues;
  }
}

/** The effective security profile does not allow network access, and a provider needs it. */
export class NetworkDeniedError extends CodexError<DeepResearchErrorCode> {
  readonly profile: string;
  readonly target: string;

  constructor(profile: string, target: string) {
    super(
      'RESEARCH_NETWORK_DENIED',
      `profile "${profile}" does not allow network access (needed for ${target}); use --profile net-read-only (or another profile with network) or the local provider`,
    );
    this.profile = profile;
    this.target = target;
  }
}

/** An HTTP fetch failed: timeout, connection error, non-2xx status, or a body that is too large. */
export class FetchError extends CodexError<DeepResearchErrorCode> {
  readonly url: string;
  readonly status: number | undefined;

  constructor(
    code: 'RESEARCH_FETCH_FAILED' | 'RESEARCH_FETCH_TIMEOUT' | 'RESEARCH_HTTP_STATUS' | 'RESEARCH_TOO_LARGE',
    url: string,
    message: string,
    options?: { status?: number; cause?: unknown },
  ) {
    super(code, `${url}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.url = url;
    this.status = options?.status;
  }
}

/** robots.txt of the host disallows the URL for our User-Agent. */
export class RobotsDisallowedError extends CodexError<DeepResearchErrorCode> {
  readonly url: string;

  constructor(url: string) {
    super('RESEARCH_ROBOTS_DISALLOWED', `${url}: disallowed by robots.txt`);
    this.url = url;
  }
}

/** A URL blocked by the domain block list (or not on a non-empty allow list). */
export class DomainBlockedError extends CodexError<DeepResearchErrorCode> {
  readonly url: string;

  constructor(url: string, why: string) {
    super('RESEARCH_DOMAIN_BLOCKED', `${url}: ${why}`);
    this.url = url;
  }
}

/** A search provider answered with something that is not what its API promises. */
export class ProviderResponseError extends CodexError<DeepResearchErrorCode> {
  readonly provider: string;

  constructor(provider: string, message: string, options?: { cause?: unknown }) {
    super('RESEARCH_BAD_PROVIDER_RESPONSE', `${provider}: ${message}`, options);
    this.provider = provider;
  }
}

/** The local corpus folder is missing, unreadable or holds no indexable file. */
export class CorpusError extends CodexError<DeepResearchErrorCode> {
  readonly dir: string;

  constructor(dir: string, message: string, options?: { cause?: unknown }) {
    super('RESEARCH_CORPUS', `${dir}: ${message}`, options);
    this.dir = dir;
  }
}

/** No provider produced a single usable source for the question. */
export class NoSourcesError extends CodexError<DeepResearchErrorCode> {
  constructor(question: string, detail: string) {
    super('RESEARCH_NO_SOURCES', `no usable sources for "${question}": ${detail}`);
  }
}

/** A cache file on disk is corrupt or unwritable. Reads treat corruption as a miss; this is for writes. */
export class CacheError extends CodexError<DeepResearchErrorCode> {
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('RESEARCH_CACHE', `${path}: ${message}`, options);
  }
}

/** Stable error codes of this package, for docs and tests. */
export const ERROR_CODES = [
  'RESEARCH_INVALID_CONFIG',
  'RESEARCH_NETWORK_DENIED',
  'RESEARCH_FETCH_FAILED',
  'RESEARCH_FETCH_TIMEOUT',
  'RESEARCH_HTTP_STATUS',
  'RESEARCH_TOO_LARGE',
  'RESEARCH_ROBOTS_DISALLOWED',
  'RESEARCH_DOMAIN_BLOCKED',
  'RESEARCH_BAD_PROVIDER_RESPONSE',
  'RESEARCH_CORPUS',
  'RESEARCH_NO_SOURCES',
  'RESEARCH_CACHE',
  'RESEARCH_MCP_TOOL_FAILED',
] as const;

/** An MCP tool call failed, or the permission proxy denied it (the message carries the proxy's reason). */
export class McpToolError extends CodexError<DeepResearchErrorCode> {
  readonly server: string;
  readonly tool: string;

  constructor(server: string, tool: string, message: string, options?: { cause?: unknown }) {
    super('RESEARCH_MCP_TOOL_FAILED', `${server}/${tool}: ${message}`, options);
    this.server = server;
    this.tool = tool;
  }
}
