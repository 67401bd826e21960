import type { SecurityProfile } from '@codex/security-profile';

/** From least to most risky. */
export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
/**
 * `low`: data processing; `medium`: file read; `high`: file write; `critical`: system change or
 * network.
 */
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** What the proxy decided about one (server, tool). */
export interface McpPermission {
  readonly server: string;
  readonly tool: string;
  readonly riskLevel: RiskLevel;
  /** The configured value; {@link requiresUserApproval} may override it for the profile. */
  readonly requiresApproval: boolean;
}

export function riskRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

export function maxRisk(...levels: readonly (RiskLevel | undefined)[]): RiskLevel | undefined {
  let best: RiskLevel | undefined;
  for (const l of levels)
    if (l !== undefined && (best === undefined || riskRank(l) > riskRank(best))) best = l;
  return best;
}

/** The approval a risk level asks for when the config says nothing: high and critical ask. */
export function defaultRequiresApproval(level: RiskLevel): boolean {
  return riskRank(level) >= riskRank('high');
}

/**
 * Whether a person must approve a call: `trusted` never asks, `critical` always asks (under every
 * other profile), `offline` asks for `high`; otherwise the configured value applies.
 */
export function requiresUserApproval(permission: McpPermission, profile: SecurityProfile): boolean {
  if (profile === 'trusted') return false;
  if (permission.riskLevel === 'critical') return true;
  if (profile === 'offline' && permission.riskLevel === 'high') return true;
  return permission.requiresApproval;
}

/** The subset of an MCP `Tool` the classifier reads. */
export interface ToolDescription {
  readonly name: string;
  readonly title?: string | undefined;
  readonly description?: string | undefined;
  readonly inputSchema?: unknown;
  readonly annotations?:
    | {
        readonly readOnlyHint?: boolean | undefined;
        readonly destructiveHint?: boolean | undefined;
        readonly idempotentHint?: boolean | undefined;
        readonly openWorldHint?: boolean | undefined;
        readonly title?: string | undefined;
      }
    | undefined;
}

export interface RiskReading {
  readonly level: RiskLevel;
  /** Why, for audit logs and `tools/list` metadata. */
  readonly reasons: readonly string[];
}

/**
 * Reads the server's annotations. They are hints from a party we do not trust, so this reading
 * can only raise the final level. Only hints that are present count (the spec's defaults would
 * make every unannotated tool critical, which says nothing).
 */
export function readAnnotations(tool: ToolDescription): RiskReading | undefined {
  const a = tool.annotations;
  if (!a) return undefined;
  const levels: RiskLevel[] = [];
  const reasons: string[] = [];
  if (a.openWorldHint === true) {
    levels.push('critical');
    reasons.push('openWorldHint');
  }
  if (a.readOnlyHint === false) {
    levels.push('high');
    reasons.push('readOnlyHint=false');
  }
  if (a.destructiveHint === true && a.readOnlyHint !== true) {
    levels.push('high');
    reasons.push('destructiveHint');
  }
  if (a.idempotentHint !== undefined && a.readOnlyHint !== true) {
    // An idempotency hint only means something for a tool that changes state.
    levels.push('high');
    reasons.push(`idempotentHint=${a.idempotentHint}`);
  }
  if (a.readOnlyHint === true) {
    levels.push('low');
    reasons.push('readOnlyHint');
  }
  const level = maxRisk(...levels);
  return level === undefined ? undefined : { level, reasons };
}

const WORDS: Readonly<Record<RiskLevel, readonly string[]>> = {
  critical: [
    'exec',
    'execute',
    'shell',
    'bash',
    'sh',
    'zsh',
    'powershell',
    'cmd',
    'command',
    'commands',
    'spawn',
    'subprocess',
    'eval',
    'script',
    'run',
    'sudo',
    'install',
    'uninstall',
    'kill',
    'reboot',
    'shutdown',
    'system',
    'env',
    'environment',
    'registry',
    'http',
    'https',
    'url',
    'urls',
    'uri',
    'fetch',
    'request',
    'download',
    'upload',
    'network',
    'socket',
    'curl',
    'wget',
    'webhook',
    'email',
    'mail',
    'smtp',
    'browse',
    'browser',
    'navigate',
    'web',
    'api',
    'post',
    'deploy',
    'push',
  ],
  high: [
    'write',
    'writes',
    'overwrite',
    'edit',
    'edits',
    'create',
    'creates',
    'delete',
    'deletes',
    'remove',
    'removes',
    'rm',
    'rmdir',
    'unlink',
    'move',
    'mv',
    'rename',
    'update',
    'updates',
    'insert',
    'modify',
    'modifies',
    'append',
    'save',
    'set',
    'put',
    'patch',
    'mkdir',
    'commit',
    'drop',
    'truncate',
    'chmod',
    'chown',
    'copy',
    'replace',
    'store',
    'persist',
    'add',
  ],
  medium: [
    'read',
    'reads',
    'get',
    'list',
    'search',
    'find',
    'open',
    'view',
    'cat',
    'stat',
    'tree',
    'glob',
    'grep',
    'file',
    'files',
    'directory',
    'directories',
    'dir',
    'folder',
    'path',
    'paths',
    'disk',
    'filesystem',
    'load',
    'query',
    'lookup',
    'info',
  ],
  low: [
    'echo',
    'sum',
    'compute',
    'calculate',
    'format',
    'parse',
    'convert',
    'sort',
    'hash',
    'encode',
    'decode',
    'validate',
    'math',
    'count',
    'summarize',
    'summarise',
    'translate',
    'uppercase',
    'lowercase',
    'reverse',
    'random',
    'time',
    'date',
    'now',
    'tiny',
    'image',
    'message',
    'ping',
  ],
};

/** Words too common in prose to mean anything in a description; they count in names only. */
const NAME_ONLY: ReadonlySet<string> = new Set([
  'system',
  'run',
  'env',
  'environment',
  'post',
  'set',
  'add',
  'api',
  'web',
  'request',
  'process',
  'store',
  'time',
  'date',
  'now',
  'image',
  'message',
  'info',
  'load',
  'open',
  'get',
  'list',
  'path',
  'paths',
  'file',
  'files',
  'directory',
  'directories',
  'dir',
  'folder',
  'copy',
  'save',
  'update',
  'updates',
  'count',
  'random',
  'tiny',
  'query',
  'script',
  'push',
  'deploy',
  'install',
  'kill',
  'sh',
  'cmd',
]);

/** Input parameter names that say what a tool touches. */
const PARAM_WORDS: Readonly<Record<Exclude<RiskLevel, 'low'>, readonly string[]>> = {
  critical: [
    'command',
    'cmd',
    'commands',
    'script',
    'shell',
    'url',
    'urls',
    'uri',
    'endpoint',
    'host',
    'hostname',
    'webhook',
    'code',
    'argv',
  ],
  high: ['content', 'contents', 'edits', 'destination', 'dest', 'target', 'new_path', 'newpath'],
  medium: [
    'path',
    'paths',
    'file',
    'files',
    'filename',
    'filepath',
    'file_path',
    'directory',
    'dir',
    'folder',
    'source',
  ],
};

/** Splits `readTextFile`, `read_text_file`, `read-text-file` and prose into lower-case words. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

function schemaParamNames(schema: unknown): string[] {
  const names: string[] = [];
  const visit = (node: unknown, depth: number): void => {
    if (depth > 4 || node === null || typeof node !== 'object') return;
    const props = (node as { properties?: unknown }).properties;
    if (props && typeof props === 'object') {
      for (const [key, value] of Object.entries(props)) {
        names.push(key);
        visit(value, depth + 1);
      }
    }
    const items = (node as { items?: unknown }).items;
    if (items) visit(items, depth + 1);
  };
  visit(schema, 0);
  return names;
}

/**
 * Independent heuristics over the tool's name, description and input schema. Returns `undefined`
 * when nothing is recognised (the caller then treats the tool as `high`).
 */
export function readHeuristics(tool: ToolDescription): RiskReading | undefined {
  const nameWords = new Set(words(`${tool.name} ${tool.title ?? ''} ${tool.annotations?.title ?? ''}`));
  const descWords = new Set(words(tool.description ?? ''));
  const paramWords = schemaParamNames(tool.inputSchema).map((p) => p.toLowerCase().replace(/-/g, '_'));
  const levels: RiskLevel[] = [];
  const reasons: string[] = [];
  for (const level of ['critical', 'high', 'medium', 'low'] as const) {
    const list = WORDS[level];
    const inName = list.filter((w) => nameWords.has(w));
    const inDesc = list.filter((w) => descWords.has(w) && !NAME_ONLY.has(w));
    if (inName.length > 0) {
      levels.push(level);
      reasons.push(`name:${inName.join('+')}`);
    }
    if (inDesc.length > 0) {
      levels.push(level);
      reasons.push(`description:${inDesc.join('+')}`);
    }
    if (level !== 'low') {
      const params = PARAM_WORDS[level];
      const hit = paramWords.filter(
        (p) => params.includes(p) || params.some((w) => p.split('_').includes(w)),
      );
      if (hit.length > 0) {
        levels.push(level);
        reasons.push(`param:${hit.join('+')}`);
      }
    }
  }
  const level = maxRisk(...levels);
  return level === undefined ? undefined : { level, reasons };
}

export type RiskSource = 'config' | 'annotations' | 'heuristics' | 'unclassified';

export interface Classification {
  readonly level: RiskLevel;
  readonly source: RiskSource;
  readonly reasons: readonly string[];
}

/**
 * Classifies a tool: a configured level is authoritative; otherwise the higher of the annotation
 * reading and the heuristic reading, where heuristics that recognise nothing count as `high`
 * (annotations may raise a level, never lower it below the heuristics).
 */
export function classifyTool(tool: ToolDescription, configured?: RiskLevel): Classification {
  if (configured !== undefined) return { level: configured, source: 'config', reasons: ['configured'] };
  const heuristics = readHeuristics(tool);
  const annotations = readAnnotations(tool);
  const heuristicLevel: RiskLevel = heuristics?.level ?? 'high';
  const heuristicReasons = heuristics?.reasons ?? ['unrecognised'];
  if (annotations && riskRank(annotations.level) > riskRank(heuristicLevel)) {
    return { level: annotations.level, source: 'annotations', reasons: annotations.reasons };
  }
  return {
    level: heuristicLevel,
    source: heuristics ? 'heuristics' : 'unclassified',
    reasons: heuristicReasons,
  };
}
