import type { SecurityProfile } from '@codex/security-profile';

/** What to do with a command. Ordered from least to most strict. */
export type Decision = 'allow' | 'prompt' | 'forbidden';

export const DECISIONS: readonly Decision[] = ['allow', 'prompt', 'forbidden'];

const RANK: Record<Decision, number> = { allow: 0, prompt: 1, forbidden: 2 };

/** The stricter of two decisions. */
export function stricter(a: Decision, b: Decision): Decision {
  return RANK[a] >= RANK[b] ? a : b;
}

export function rank(d: Decision): number {
  return RANK[d];
}

/** Policy layers, from lowest to highest precedence. */
export type LayerKind = 'default' | 'user' | 'project' | 'admin';
export const LAYER_KINDS: readonly LayerKind[] = ['default', 'user', 'project', 'admin'];

/** A command proposed by the agent: an argv array, or a shell script string. */
export type CommandInput = readonly string[] | { readonly script: string };

export interface EvaluationContext {
  /** Effective security profile (canonical name or alias). Default: `offline`. */
  readonly profile?: SecurityProfile | string;
  /** Absolute working directory; relative paths (redirect targets, operands) resolve against it. */
  readonly cwd: string;
  /** Absolute workspace roots. Default: `[cwd]`. */
  readonly workspaceRoots?: readonly string[];
  /** More writable roots (only under `workspace-*` profiles). */
  readonly extraWritableRoots?: readonly string[];
  /** `linux` (default), `darwin`, `win32`…: selects the system paths that are protected. */
  readonly platform?: string;
  /** Home directory for `~`. When absent, `~` is treated as unresolvable (and as outside the workspace). */
  readonly home?: string;
}

/**
 * Why a finding decided what it did, as data (the reason strings are for people):
 * - `unknown-command`: no policy layer has a rule for the program;
 * - `unlisted-arguments`: rules exist for the program, but none matches these arguments;
 * - `rule`: a rule decided it (its own decision for the profile);
 * - `network`: the command uses the network and the profile does not allow it;
 * - `write`: a write target outside the writable roots, on a system path, or not resolvable;
 * - `other`: anything else (parser limits, non-literal words, nested shells, credential reads,
 *   risky options, variables that change what runs…).
 * A caller that wants to know "is this `prompt` only because nobody listed the command?" checks
 * that every cause of {@link Evaluation.causes} is `unknown-command` or `unlisted-arguments`.
 */
export type FindingCause = 'unknown-command' | 'unlisted-arguments' | 'rule' | 'network' | 'write' | 'other';

export const FINDING_CAUSES: readonly FindingCause[] = [
  'unknown-command',
  'unlisted-arguments',
  'rule',
  'network',
  'write',
  'other',
];

/** A rule that matched a segment. */
export interface MatchedRule {
  readonly id: string;
  readonly layer: LayerKind;
  /** Where the rule came from: `builtin`, a file path, or a caller-chosen name. */
  readonly source: string;
  /** The rule's decision under the context's profile. */
  readonly decision: Decision;
  readonly justification: string;
}

/** One simple command (or construct) found in the input, with its own decision. */
export interface SegmentEvaluation {
  /** argv after quote removal; non-literal words are shown as written (e.g. `$HOME`). */
  readonly argv: readonly string[];
  /** Source text of the segment. */
  readonly text: string;
  /** Nesting depth: 0 for the top level, +1 inside each `bash -c` / `sh -c` script. */
  readonly depth: number;
  readonly decision: Decision;
  readonly reasons: readonly string[];
  /** The cause of each reason, same order and length as `reasons`. */
  readonly causes: readonly FindingCause[];
  readonly rules: readonly MatchedRule[];
  /** Absolute paths this segment would write (redirects and known write operands). */
  readonly writes: readonly string[];
}

export interface Evaluation {
  /** The strictest decision over all segments. */
  readonly decision: Decision;
  /** Why, strictest first. */
  readonly reasons: readonly string[];
  /** The distinct causes of the segments that decided `decision` (see {@link FindingCause}). */
  readonly causes: readonly FindingCause[];
  /** Every rule that matched any segment. */
  readonly matchedRules: readonly MatchedRule[];
  readonly segments: readonly SegmentEvaluation[];
  readonly profile: SecurityProfile;
}
