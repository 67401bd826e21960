export { DEFAULT_POLICY } from './default-policy.js';
export { describeEvaluation } from './describe.js';
export {
  createPolicyEngine,
  evaluate,
  LIMITS,
  PolicyEngine,
  type PolicyEngineOptions,
  type PolicyLayer,
} from './engine.js';
export type { ExecpolicyErrorCode } from './errors.js';
export {
  ParserInitError,
  ParserNotLoadedError,
  PolicyContextError,
  PolicyExampleError,
  PolicyLoadError,
} from './errors.js';
export { TREE_SITTER_BASH_VERSION, WEB_TREE_SITTER_VERSION } from './generated/versions.js';
export {
  type PolicyInput,
  type PolicySpec,
  parsePolicyObject,
  parsePolicyText,
  policySchema,
  type RuleSpec,
  ruleSchema,
} from './schema.js';
export { isDangerousName } from './shell.js';
export { approvalPrefix, approvalPrefixes, isPolicyTrusted, policyDigest, sha256Hex } from './trust.js';
export {
  type CommandInput,
  DECISIONS,
  type Decision,
  type Evaluation,
  type EvaluationContext,
  FINDING_CAUSES,
  type FindingCause,
  LAYER_KINDS,
  type LayerKind,
  type MatchedRule,
  type SegmentEvaluation,
  stricter,
} from './types.js';
