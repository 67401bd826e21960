export {
  assessBias,
  type BiasOptionsInput,
  type BiasReport,
  biasOptionsSchema,
  checkDomain,
  type DomainListsInput,
  type DomainShare,
  domainListsSchema,
  domainOf,
  matchesDomain,
} from './bias.js';
export {
  type CachedValue,
  type CacheOptionsInput,
  type CacheStats,
  cacheOptionsSchema,
  ResearchCache,
} from './cache.js';
export {
  type Contradiction,
  type ContradictionKind,
  type ContradictionOptions,
  findContradictions,
} from './contradictions.js';
export {
  type DedupOptions,
  type DedupOptionsInput,
  type DedupResult,
  type DedupStats,
  type DuplicatePair,
  dedupe,
  dedupeFingerprints,
  dedupeNaive,
  dedupOptionsSchema,
  type Fingerprints,
  fingerprint,
  MAX_DEDUP_DOCUMENTS,
} from './dedup.js';
export type { DeepResearchErrorCode } from './errors.js';
export {
  CacheError,
  CorpusError,
  DomainBlockedError,
  ERROR_CODES,
  FetchError,
  McpToolError,
  NetworkDeniedError,
  NoSourcesError,
  ProviderResponseError,
  ResearchConfigError,
  RobotsDisallowedError,
} from './errors.js';
export {
  type DedupEvaluation,
  editWords,
  evaluateDedup,
  type LabelledDocument,
  makeNearDuplicateSet,
  type NearDuplicateSetOptions,
} from './eval.js';
export { type ExtractedPage, extractMainText } from './extract.js';
export {
  DEFAULT_USER_AGENT,
  HttpClient,
  type HttpDeps,
  type HttpOptionsInput,
  type HttpResponse,
  type HttpStats,
  httpOptionsSchema,
} from './http.js';
export { type ResearchOptions, type ResearchStage, research } from './pipeline.js';
export {
  DEFAULT_IGNORED_DIRS,
  LocalProvider,
  type LocalProviderOptionsInput,
  localProviderOptionsSchema,
} from './providers/local.js';
export {
  filesystemAdapter,
  type McpCall,
  type McpItem,
  McpProvider,
  type McpSearchAdapter,
  type McpToolClient,
  type McpToolText,
  memoryGraphAdapter,
} from './providers/mcp.js';
export { SearxngProvider } from './providers/searxng.js';
export type { SearchHit, SearchOptions, SearchProvider, SourceDocument } from './providers/types.js';
export { type RankedPassage, type RankOptions, rankPassages } from './rank.js';
export {
  type ReportContradiction,
  type ReportFinding,
  type ReportSkip,
  type ReportSource,
  type ResearchReport,
  renderMarkdown,
} from './report.js';
export { subQueries } from './subqueries.js';
