import { deferred, SECURITY_PROFILES } from '@codex/security-profile';
import { parse as parseToml, TomlError } from '@codex/security-profile/toml';
import * as z from '@codex/security-profile/zod';
import { PolicyLoadError } from './errors.js';
import { LAYER_KINDS } from './types.js';

const decision = deferred(() => z.enum(['allow', 'prompt', 'forbidden']));

const perProfile = deferred(() =>
  z.strictObject(
    Object.fromEntries([
      ['default', decision],
      ...SECURITY_PROFILES.map((p) => [p, decision.optional()]),
    ]) as {
      default: typeof decision;
    } & Record<(typeof SECURITY_PROFILES)[number], z.ZodOptional<typeof decision>>,
  ),
);

const pattern = deferred(() => z.string().min(1, 'must not be empty'));
const token = deferred(() => z.union([pattern, z.array(pattern).min(1, 'needs at least one alternative')]));

/** One rule of a policy file. Keys are snake_case in TOML/JSON. */
export const ruleSchema = deferred(() =>
  z.strictObject({
    /** Stable identifier, named in errors and explanations. */
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be letters, digits, ".", "_", ":" or "-"'),
    /** Leading argv tokens; each is a literal, `re:<regex>`, or a list of alternatives. */
    prefix: z.array(token).min(1, 'needs at least the command name'),
    /** A decision, or one per profile with a `default`. */
    decision: z.union([decision, perProfile]),
    justification: z.string().min(1, 'must explain the rule'),
    /** The rule applies only if some argument after the prefix matches one of these patterns. */
    when_any: z.array(pattern).optional(),
    /** The rule applies only if every pattern matches some argument after the prefix. */
    when_all: z.array(pattern).optional(),
    /** The rule does not apply if any argument after the prefix matches one of these patterns. */
    unless_any: z.array(pattern).optional(),
    /** The rule applies only if some operand (non-option argument) matches one of these patterns. */
    operands_any: z.array(pattern).optional(),
    /** The rule applies only if some operand resolves outside every workspace root (or cannot be resolved). */
    operand_outside_workspace: z.boolean().optional(),
    /** The command uses the network: at least `prompt` under profiles without network, whatever any layer says. */
    network: z.boolean().optional(),
    /** Operands that the command writes: all of them, or only the last (cp, mv). */
    writes: z.enum(['operands', 'last-operand']).optional(),
    /** Options whose value is a written path (`-o`, `--output`, `of=`). */
    write_options: z.array(pattern).optional(),
    /** Arguments that are not literal (`$VAR`, `$(…)`) do not lower an `allow` to `prompt`. */
    any_arguments: z.boolean().optional(),
    /** Commands the rule must match (checked when the policy loads). */
    match: z.array(z.union([z.string().min(1), z.array(z.string()).min(1)])).optional(),
    /** Commands the rule must not match. */
    not_match: z.array(z.union([z.string().min(1), z.array(z.string()).min(1)])).optional(),
  }),
);

export const policySchema = deferred(() =>
  z.strictObject({
    /** Schema version; only 1 exists. */
    version: z.literal(1).optional(),
    /** Which layer the file is meant for; a loader may refuse a mismatch. */
    layer: z.enum(LAYER_KINDS as ['default', 'user', 'project', 'admin']).optional(),
    rule: z.array(ruleSchema).default([]),
  }),
);

export type RuleSpec = z.output<typeof ruleSchema>;
export type PolicySpec = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** Validates a parsed policy object. Throws {@link PolicyLoadError} naming the source and key. */
export function parsePolicyObject(value: unknown, source: string): PolicySpec {
  const result = policySchema.safeParse(value ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    let key = issue.path.map(String).join('.');
    const rules = (value as { rule?: { id?: unknown }[] } | null)?.rule;
    if (issue.path[0] === 'rule' && typeof issue.path[1] === 'number' && Array.isArray(rules)) {
      const id = rules[issue.path[1]]?.id;
      if (typeof id === 'string')
        key = `rule[${JSON.stringify(id)}]${issue.path.length > 2 ? `.${issue.path.slice(2).join('.')}` : ''}`;
    }
    let message = issue.message;
    if (issue.code === 'unrecognized_keys')
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
    throw new PolicyLoadError(source, key, message + more);
  }
  return result.data;
}

/**
 * Parses policy text. `format` defaults from the source name (`.json` → JSON, otherwise TOML).
 * Throws {@link PolicyLoadError} for syntax or schema problems.
 */
export function parsePolicyText(text: string, source: string, format?: 'toml' | 'json'): PolicySpec {
  const fmt = format ?? (source.toLowerCase().endsWith('.json') ? 'json' : 'toml');
  let data: unknown;
  try {
    data = fmt === 'json' ? JSON.parse(text) : parseToml(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0] ?? 'syntax error';
      throw new PolicyLoadError(
        source,
        '',
        `TOML syntax error at line ${error.line}, column ${error.column}: ${first}`,
      );
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PolicyLoadError(source, '', `${fmt.toUpperCase()} syntax error: ${message}`);
  }
  return parsePolicyObject(data, source);
}
