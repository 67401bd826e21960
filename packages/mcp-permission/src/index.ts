export {
  type CallDecision,
  type CallVerdict,
  evaluateTool,
  PERMISSION_META_KEY,
  type ToolEvaluation,
} from './approval.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  defaultMcpProxyConfig,
  loadMcpProxyConfig,
  type McpProxyConfig,
  type McpProxyConfigInput,
  mcpProxyConfigSchema,
  parseMcpProxyConfig,
  type ResolvedRule,
  resolveRule,
  serverRuleSchema,
  type ToolRule,
  toolRuleSchema,
} from './config.js';
export {
  type ConnectOptions,
  connectThroughPermissionProxy,
  type ProxiedMcpConnection,
} from './connect.js';
export type { McpPermissionErrorCode } from './errors.js';
export {
  ConfigError,
  McpClientError,
  type McpClientErrorCode,
  McpMessageTooLargeError,
  PinStoreError,
  ServerEnvError,
  UpstreamError,
  UpstreamOptionsError,
} from './errors.js';
export { type FramingProblem, LineDecoder, scanId } from './framing.js';
export { cappedFetch, HttpUpstreamTransport, httpUpstream } from './http.js';
export { inspectTools, type ToolReport } from './inspect.js';
export { defaultServerName, serverEnvironment } from './naming.js';
export {
  hashTool,
  openPinStore,
  PINS_FILE,
  type PinnableTool,
  type PinStatus,
  PinStore,
  type ToolPin,
} from './pins.js';
export { McpPermissionProxy, type McpPermissionProxyOptions } from './proxy.js';
export {
  type Classification,
  classifyTool,
  defaultRequiresApproval,
  type McpPermission,
  RISK_LEVELS,
  type RiskLevel,
  type RiskReading,
  type RiskSource,
  readAnnotations,
  readHeuristics,
  requiresUserApproval,
  type ToolDescription,
} from './risk.js';
export { redactText, summariseArguments } from './summary.js';
export {
  ChildProcessTransport,
  type ChildProcessTransportOptions,
  defaultServerEnvironment,
  type FramedTransport,
  StreamTransport,
} from './transport.js';
export {
  describePins,
  describeToolReports,
  openProxyTarget,
  openUpstream,
  type ProxyTarget,
  type ProxyTargetOptions,
  parseHeaders,
  type UpstreamOptions,
} from './upstream.js';
