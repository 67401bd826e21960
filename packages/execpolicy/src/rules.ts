import { SECURITY_PROFILES, type SecurityProfile } from '@codex/security-profile';
import { PolicyLoadError } from './errors.js';
import type { RuleSpec } from './schema.js';
import type { Word } from './shell.js';
import type { Decision, LayerKind } from './types.js';

export type Matcher = (arg: string) => boolean;

export interface CompiledRule {
  readonly id: string;
  readonly layer: LayerKind;
  readonly source: string;
  readonly spec: RuleSpec;
  /** Literal alternatives for the command name, or undefined when the name is a regex. */
  readonly names: readonly string[] | undefined;
  readonly prefix: readonly Matcher[];
  readonly decisions: Readonly<Record<SecurityProfile, Decision>>;
  readonly justification: string;
  readonly whenAny: readonly Matcher[];
  readonly whenAll: readonly Matcher[];
  readonly unlessAny: readonly Matcher[];
  readonly operandsAny: readonly Matcher[];
  readonly operandOutsideWorkspace: boolean;
  readonly network: boolean;
  readonly writes: 'operands' | 'last-operand' | undefined;
  readonly writeOptions: readonly string[];
  readonly anyArguments: boolean;
  /** Precomputed report entries, one per profile. */
  readonly matched: Readonly<Record<SecurityProfile, MatchedRuleView>>;
  /** Precomputed `id (layer): justification`. */
  readonly reason: string;
}

export interface MatchedRuleView {
  readonly id: string;
  readonly layer: LayerKind;
  readonly source: string;
  readonly decision: Decision;
  readonly justification: string;
}

function compileRegex(source: string, body: string, key: string): RegExp {
  try {
    return new RegExp(body);
  } catch (error) {
    throw new PolicyLoadError(
      source,
      key,
      `invalid regular expression ${JSON.stringify(body)}: ${(error as Error).message}`,
    );
  }
}

/** A prefix token: an exact literal or `re:<regex>` (tested against the whole token). */
function tokenMatcher(pattern: string, source: string, key: string): Matcher {
  if (pattern.startsWith('re:')) {
    const re = compileRegex(source, pattern.slice(3), key);
    return (arg) => re.test(arg);
  }
  return (arg) => arg === pattern;
}

/**
 * An argument pattern:
 * - `re:<regex>`: regex search in the argument;
 * - `-x` (one letter): `-x` or a cluster of short flags containing `x` (`-rf` matches `-r`);
 * - `--long`: `--long` or `--long=value`;
 * - ending in `*` or `=`: the argument starts with the text before `*` (or with the `=`);
 * - anything else: exact.
 */
export function argMatcher(pattern: string, source: string, key: string): Matcher {
  if (pattern.startsWith('re:')) {
    const re = compileRegex(source, pattern.slice(3), key);
    return (arg) => re.test(arg);
  }
  if (pattern.endsWith('*')) {
    const head = pattern.slice(0, -1);
    return (arg) => arg.startsWith(head);
  }
  if (pattern.endsWith('=')) return (arg) => arg.startsWith(pattern);
  if (/^-[A-Za-z0-9]$/.test(pattern)) {
    const letter = pattern[1]!;
    return (arg) => arg === pattern || (/^-[A-Za-z0-9]+$/.test(arg) && arg.includes(letter));
  }
  if (pattern.startsWith('--')) {
    const eq = `${pattern}=`;
    return (arg) => arg === pattern || arg.startsWith(eq);
  }
  return (arg) => arg === pattern;
}

export function compileRule(spec: RuleSpec, layer: LayerKind, source: string): CompiledRule {
  const key = `rule[${JSON.stringify(spec.id)}]`;
  const prefix = spec.prefix.map((token, i) => {
    const alts = (Array.isArray(token) ? token : [token]).map((p) =>
      tokenMatcher(p, source, `${key}.prefix.${i}`),
    );
    return alts.length === 1 ? alts[0]! : (arg: string) => alts.some((m) => m(arg));
  });
  const first = spec.prefix[0]!;
  const firstAlts = Array.isArray(first) ? first : [first];
  const names = firstAlts.some((p) => p.startsWith('re:')) ? undefined : firstAlts;
  const decisions = {} as Record<SecurityProfile, Decision>;
  for (const profile of SECURITY_PROFILES) {
    decisions[profile] =
      typeof spec.decision === 'string' ? spec.decision : (spec.decision[profile] ?? spec.decision.default);
  }
  const args = (list: readonly string[] | undefined, field: string) =>
    (list ?? []).map((p, i) => argMatcher(p, source, `${key}.${field}.${i}`));
  const matched = {} as Record<SecurityProfile, MatchedRuleView>;
  for (const profile of SECURITY_PROFILES) {
    matched[profile] = Object.freeze({
      id: spec.id,
      layer,
      source,
      decision: decisions[profile],
      justification: spec.justification,
    });
  }
  return {
    matched,
    reason: `${spec.id} (${layer}): ${spec.justification}`,
    id: spec.id,
    layer,
    source,
    spec,
    names,
    prefix,
    decisions,
    justification: spec.justification,
    whenAny: args(spec.when_any, 'when_any'),
    whenAll: args(spec.when_all, 'when_all'),
    unlessAny: args(spec.unless_any, 'unless_any'),
    operandsAny: args(spec.operands_any, 'operands_any'),
    operandOutsideWorkspace: spec.operand_outside_workspace === true,
    network: spec.network === true,
    writes: spec.writes,
    writeOptions: spec.write_options ?? [],
    anyArguments: spec.any_arguments === true,
  };
}

/** Operands: arguments that are not options (everything after `--` counts). */
export function operandsOf(args: readonly Word[]): Word[] {
  const out: Word[] = [];
  let dashdash = false;
  for (const w of args) {
    if (!dashdash && w.literal && w.value === '--') {
      dashdash = true;
      continue;
    }
    if (!dashdash && w.literal && w.value.length > 1 && w.value.startsWith('-')) continue;
    out.push(w);
  }
  return out;
}

export interface MatchEnv {
  /** True when the operand lies outside every workspace root (or is `~` without a known home). */
  readonly outsideWorkspace: (w: Word) => boolean;
}

/** Does the rule match this argv (first word already normalised)? */
export function ruleMatches(rule: CompiledRule, words: readonly Word[], env: MatchEnv): boolean {
  const { prefix } = rule;
  if (words.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const w = words[i]!;
    if (!w.literal || !prefix[i]!(w.value)) return false;
  }
  if (
    rule.whenAny.length === 0 &&
    rule.whenAll.length === 0 &&
    rule.unlessAny.length === 0 &&
    rule.operandsAny.length === 0 &&
    !rule.operandOutsideWorkspace
  ) {
    return true;
  }
  const rest = words.slice(prefix.length);
  const literals: string[] = [];
  for (const w of rest) if (w.literal) literals.push(w.value);
  if (rule.whenAny.length > 0 && !literals.some((a) => rule.whenAny.some((m) => m(a)))) return false;
  for (const m of rule.whenAll) if (!literals.some((a) => m(a))) return false;
  if (rule.unlessAny.length > 0 && literals.some((a) => rule.unlessAny.some((m) => m(a)))) return false;
  if (rule.operandsAny.length > 0 || rule.operandOutsideWorkspace) {
    const ops = operandsOf(rest);
    if (
      rule.operandsAny.length > 0 &&
      !ops.some((w) => rule.operandsAny.some((m) => m(w.literal ? w.value : w.source)))
    ) {
      return false;
    }
    if (rule.operandOutsideWorkspace && !ops.some((w) => env.outsideWorkspace(w))) return false;
  }
  return true;
}
