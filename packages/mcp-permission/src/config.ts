import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError, configSyntaxError, deferred, toConfigIssues } from '@codex/security-profile';
import { parse as parseToml, TomlError } from '@codex/security-profile/toml';
import * as z from '@codex/security-profile/zod';
import { globSpecificity, globToRegExp, isGlob } from './glob.js';
import { RISK_LEVELS, type RiskLevel } from './risk.js';

/** Default cap on one JSON-RPC message, in bytes (either direction). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const ruleFields = {
  /** Authoritative risk level; the classifier is not consulted. */
  risk: z.enum(RISK_LEVELS).optional(),
  /** The configured approval value (profiles may still override it, see requiresUserApproval). */
  requires_approval: z.boolean().optional(),
  /** Forbidden tools are hidden from tools/list and every call is denied. */
  forbidden: z.boolean().optional(),
};

export const toolRuleSchema = deferred(() => z.strictObject(ruleFields));

export const serverRuleSchema = deferred(() =>
  z.strictObject({
    ...ruleFields,
    /** Tool-name glob → rule. */
    tools: z.record(z.string().min(1), toolRuleSchema).default({}),
  }),
);

/** Schema of the proxy config file (`--mcp-config`, JSON or TOML). Unknown keys are errors. */
export const mcpProxyConfigSchema = deferred(() =>
  z.strictObject({
    /** What happens when a call needs approval and the client cannot be asked (no elicitation). */
    approval_fallback: z.enum(['deny', 'allow']).default('deny'),
    /** What happens when a pinned tool's description or schema changed: hide and deny, or ask again. */
    on_tool_change: z.enum(['block', 'ask']).default('block'),
    /** How long an approval request waits for the person before it counts as a denial. */
    approval_timeout_seconds: z.number().positive().max(3600).default(300),
    /** Cap on one JSON-RPC message in either direction. */
    max_message_bytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(DEFAULT_MAX_MESSAGE_BYTES),
    /** Server-name glob → rule. */
    servers: z.record(z.string().min(1), serverRuleSchema).default({}),
  }),
);

export type McpProxyConfig = z.output<typeof mcpProxyConfigSchema>;
export type McpProxyConfigInput = z.input<typeof mcpProxyConfigSchema>;
export type ToolRule = z.output<typeof toolRuleSchema>;

/** Validates a parsed config object. Throws ConfigError naming `source`, the key and the problem. */
export function parseMcpProxyConfig(value: unknown, source = 'mcp proxy config'): McpProxyConfig {
  const result = mcpProxyConfigSchema.safeParse(value ?? {});
  if (!result.success) throw new ConfigError(source, toConfigIssues(result.error));
  return result.data;
}

export function defaultMcpProxyConfig(): McpProxyConfig {
  return mcpProxyConfigSchema.parse({});
}

/** The effective rule for one tool, merged from the matching server and tool entries. */
export interface ResolvedRule {
  readonly risk?: RiskLevel;
  readonly requiresApproval?: boolean;
  readonly forbidden: boolean;
  /** The patterns that matched, most general first, e.g. `fs-*` then `fs-* / write_*`. */
  readonly matched: readonly string[];
}

function matching<T>(entries: Record<string, T>, name: string): [string, T][] {
  return Object.entries(entries)
    .filter(([pattern]) => (isGlob(pattern) ? globToRegExp(pattern).test(name) : pattern === name))
    .map((e, i) => [e, i] as const)
    .sort(([[a], i], [[b], j]) => {
      // General first, specific last (later entries override earlier ones): exact beats glob,
      // more literal characters beat fewer, and for ties the later entry in the file wins.
      const ea = isGlob(a) ? 0 : 1;
      const eb = isGlob(b) ? 0 : 1;
      if (ea !== eb) return ea - eb;
      const d = globSpecificity(a) - globSpecificity(b);
      return d !== 0 ? d : i - j;
    })
    .map(([e]) => e);
}

/**
 * Resolves the rule for (server, tool): every matching server entry, then every matching tool entry
 * inside those, applied from most general to most specific, so the most specific entry that sets
 * a field wins (`forbidden = false` in a narrow entry lifts a broad `forbidden = true`).
 */
export function resolveRule(config: McpProxyConfig, server: string, tool: string): ResolvedRule {
  let risk: RiskLevel | undefined;
  let requiresApproval: boolean | undefined;
  let forbidden = false;
  const matched: string[] = [];
  const apply = (rule: ToolRule, label: string): void => {
    matched.push(label);
    if (rule.risk !== undefined) risk = rule.risk;
    if (rule.requires_approval !== undefined) requiresApproval = rule.requires_approval;
    if (rule.forbidden !== undefined) forbidden = rule.forbidden;
  };
  const servers = matching(config.servers, server);
  for (const [pattern, rule] of servers) apply(rule, pattern);
  for (const [serverPattern, rule] of servers) {
    for (const [toolPattern, toolRule] of matching(rule.tools, tool))
      apply(toolRule, `${serverPattern}/${toolPattern}`);
  }
  return {
    ...(risk !== undefined ? { risk } : {}),
    ...(requiresApproval !== undefined ? { requiresApproval } : {}),
    forbidden,
    matched,
  };
}

/** The text of a config file as data: TOML when the name ends in `.toml`, JSON otherwise. */
function parseConfigFileText(path: string, text: string): unknown {
  const format = extname(path).toLowerCase() === '.toml' ? 'toml' : 'json';
  try {
    return format === 'json' ? JSON.parse(text) : parseToml(text);
  } catch (error) {
    if (format === 'toml' && !(error instanceof TomlError)) throw error;
    throw configSyntaxError(path, format, error);
  }
}

/**
 * Reads and validates an MCP permission config file (per-server/tool rules): TOML when the name
 * ends in `.toml`, JSON otherwise. `undefined` gives the defaults. The one loader behind
 * `codex mcp proxy|inspect --mcp-config` and the `mcp` supervisor agent's `config`.
 * Throws ConfigError naming the file, the key and the problem (a missing file included).
 */
export function loadMcpProxyConfig(path: string | undefined): McpProxyConfig {
  if (path === undefined) return parseMcpProxyConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [{ path: '', message: `cannot read file (${code ?? String(error)})` }]);
  }
  return parseMcpProxyConfig(parseConfigFileText(path, text), path);
}
