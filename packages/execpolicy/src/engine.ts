import {
  CAPABILITIES,
  CodexError,
  isWithin,
  isWritable,
  joinPath,
  normalizeAbsolutePath,
  parseProfile,
  type SandboxPolicy,
  type SecurityProfile,
  toSandboxPolicy,
} from '@codex/security-profile';
import type { Parser } from 'web-tree-sitter';
import { DEFAULT_POLICY } from './default-policy.js';
import { PolicyContextError, PolicyExampleError, PolicyLoadError } from './errors.js';
import { fastSegments } from './fastpath.js';
import { analyseOptions, type OptionAnalysis, toolSpec, WRAPPER_SPECS } from './options.js';
import { createBashParser } from './parser.js';
import { type CompiledRule, compileRule, type MatchEnv, operandsOf, ruleMatches } from './rules.js';
import { type PolicyInput, type PolicySpec, parsePolicyObject, parsePolicyText } from './schema.js';
import { isDangerousName, type RawSegment, SegmentCollector, type Word } from './shell.js';
import {
  type CommandInput,
  type Decision,
  type Evaluation,
  type EvaluationContext,
  type FindingCause,
  LAYER_KINDS,
  type LayerKind,
  type MatchedRule,
  rank,
  type SegmentEvaluation,
  stricter,
} from './types.js';

/** A policy layer handed to {@link createPolicyEngine}. */
export interface PolicyLayer {
  readonly kind: Exclude<LayerKind, 'default'>;
  /** Names the layer in errors and explanations (a file path, `project`, …). */
  readonly source: string;
  /** Policy text (TOML, or JSON when `format: 'json'` or the source ends in `.json`) or an object. */
  readonly policy: string | PolicyInput;
  readonly format?: 'toml' | 'json';
  /**
   * Project layers only (a `.codex/policy.toml` an agent with write access could have created):
   * unless `true`, the layer may only tighten, never loosen, what the layers below it decide.
   * Set it only when the user trusted this exact content (see {@link isPolicyTrusted}).
   */
  readonly trusted?: boolean;
}

export interface PolicyEngineOptions {
  /** Extra layers; their order does not matter, precedence is default < user < project < admin. */
  readonly layers?: readonly PolicyLayer[];
  /** Include the built-in default layer (default true). */
  readonly defaults?: boolean;
  /**
   * How many parsed scripts (up to 4,096 characters each) to keep, least recently used first out.
   * Parses do not depend on the context, so a repeated script skips the parser. Default 256; 0 disables.
   */
  readonly parseCacheSize?: number;
}

/** Limits that keep evaluation bounded on hostile input. Beyond them the answer is `prompt`. */
export const LIMITS = { maxScriptLength: 100_000, maxShellDepth: 4, maxSegments: 64 } as const;

const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'busybox-sh']);
/** Only root-owned system directories name the real tool; `/usr/local/bin` is often user-writable. */
const STANDARD_BIN = /^\/(usr\/)?s?bin\/[^/]+$/;
/** C0 controls other than tab and newline, DEL, and Unicode line separators / bidi overrides. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** Shell syntax in a single argv element: it is a script, not a program name. */
const SCRIPT_LIKE = /[\s;&|<>()$`'"\\*?[\]{}~#!=]/;
/**
 * Well-known credential locations (any user's home, any depth), matched case-insensitively on
 * the path as written and as resolved.
 */
const CREDENTIALS =
  /(^|[/\\])(\.ssh|\.aws|\.gnupg|\.netrc|_netrc|\.docker|\.kube|\.azure|\.git-credentials|\.npmrc|\.yarnrc(\.yml)?|\.pypirc|\.vault-token|\.password-store|\.pgpass|\.my\.cnf|\.boto|\.s3cfg|\.terraform\.d|\.terraformrc|\.gem[/\\]credentials|\.cargo[/\\]credentials(\.toml)?|\.config[/\\](gh|hub|gcloud|op|doctl|heroku|rclone|git[/\\]credentials)|\.local[/\\]share[/\\]keyrings|\.mozilla|\.thunderbird|\.bash_history|\.zsh_history|\.histfile|\.python_history|\.psql_history|\.mysql_history|\.codex|Library[/\\]Keychains)([/\\]|$)|^[/\\]etc[/\\](shadow|gshadow|sudoers|ssh[/\\]ssh_host_)|^[/\\]proc[/\\][^/]+[/\\](environ|mem|cmdline)/i;
/** root's home: another user's files, unless it is the home of the user running the command. */
const ROOT_HOME = /^[/\\]root([/\\]|$)/;

/**
 * A credential location for a user whose home is `home`. `/root` counts whole only when it is
 * not that home: root running in a clone under /root (a fresh machine or container) would
 * otherwise have every relative operand treated as a secret.
 */
function isCredentialPath(path: string, home: string | undefined): boolean {
  if (CREDENTIALS.test(path)) return true;
  if (!ROOT_HOME.test(path)) return false;
  const ownHome = home !== undefined && !/(^|[/\\])\.\.([/\\]|$)/.test(path) && isWithin(path, home);
  return !ownHome;
}

/** Characters without which an operand can name neither a credential file nor a place above home. */
const INTERESTING_PATH = /^[.~]|[/\\*?[]|_netrc/;
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^*?[]*$/;
const RECURSIVE_READERS = new Set(['rg', 'ag', 'grep', 'egrep', 'fgrep']);
const SAFE_DEVICES = /^\/dev\/(null|zero|stdout|stderr|stdin|tty|fd\/[0-9]+|full|random|urandom)$/;
const NET_DEVICES = /^\/dev\/(tcp|udp)\//;
const POSIX_SYSTEM = [
  '/etc',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/boot',
  '/sys',
  '/proc',
  '/dev',
  '/opt',
  '/var',
  '/root',
  '/snap',
  '/System',
  '/Library',
  '/Applications',
  '/private/etc',
  '/private/var',
];
const WINDOWS_SYSTEM = ['C:\\Windows', 'C:\\Program Files', 'C:\\Program Files (x86)', 'C:\\ProgramData'];

interface Finding {
  decision: Decision;
  reason: string;
  /** Default `other` (or `rule` for a rule's own decision). */
  cause?: FindingCause;
}

interface ResolvedContext {
  readonly profile: SecurityProfile;
  readonly cwd: string;
  /** Every directory the script may be in at this point (after `cd`), or undefined when unknown. */
  readonly cwds: readonly string[] | undefined;
  readonly workspaceRoots: readonly string[];
  readonly sandbox: SandboxPolicy;
  readonly systemPaths: readonly string[];
  readonly home: string | undefined;
  readonly network: boolean;
  readonly trusted: boolean;
  readonly matchEnv: MatchEnv;
}

interface Layer {
  readonly kind: LayerKind;
  readonly source: string;
  readonly rules: readonly CompiledRule[];
  readonly byName: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly dynamic: readonly CompiledRule[];
  /** An untrusted project layer: its rules can only make a decision stricter. */
  readonly tightenOnly: boolean;
}

function buildLayer(kind: LayerKind, source: string, spec: PolicySpec, tightenOnly = false): Layer {
  const seen = new Set<string>();
  const rules = spec.rule.map((r) => {
    if (seen.has(r.id))
      throw new PolicyLoadError(source, `rule[${JSON.stringify(r.id)}]`, 'duplicate rule id');
    seen.add(r.id);
    return compileRule(r, kind, source);
  });
  const byName = new Map<string, CompiledRule[]>();
  const dynamic: CompiledRule[] = [];
  for (const rule of rules) {
    if (rule.names === undefined) dynamic.push(rule);
    else for (const n of rule.names) byName.set(n, [...(byName.get(n) ?? []), rule]);
  }
  return { kind, source, rules, byName, dynamic, tightenOnly };
}

/** Splits a shell word list out of an example string with the real parser. */
function exampleWords(parser: Parser, example: string | readonly string[]): Word[] | undefined {
  if (typeof example !== 'string') {
    return example.map((value) => ({ value, literal: true, tilde: false, source: value }));
  }
  const tree = parser.parse(example);
  if (!tree) return undefined;
  try {
    if (tree.rootNode.hasError) return undefined;
    const collector = new SegmentCollector(example);
    collector.walk(tree.rootNode);
    const segs = collector.segments;
    const only = segs[0];
    if (!only || only.words.some((w) => !w.literal) || only.redirects.length > 0) return undefined;
    if (
      only.assignments.length > 0 &&
      !/^(export|declare|local|readonly|typeset)$/.test(only.words[0]?.value ?? '')
    ) {
      return undefined;
    }
    if (segs.length !== 1 || segs[0]!.kind !== 'command' || segs[0]!.words.length === 0) return undefined;
    return segs[0]!.words;
  } finally {
    tree.delete();
  }
}

const EXAMPLE_CONTEXT: EvaluationContext = {
  cwd: '/workspace',
  workspaceRoots: ['/workspace'],
  home: '/home/user',
};

/**
 * A loaded, validated set of policy layers with a bash parser. Create it once with
 * {@link createPolicyEngine}; {@link PolicyEngine.evaluate} is synchronous and never throws for
 * any command input (only for an invalid context).
 */
export class PolicyEngine {
  /** Layers from highest to lowest precedence. */
  private readonly layers: readonly Layer[];
  private readonly parser: Parser;
  private readonly contexts = new WeakMap<EvaluationContext, ResolvedContext>();
  private readonly cwdKinds = new WeakMap<ResolvedContext, { secret: boolean; broad: boolean }>();

  /** @internal use {@link createPolicyEngine}. */
  private readonly parseCache = new Map<string, readonly RawSegment[]>();
  private readonly parseCacheSize: number;

  constructor(parser: Parser, layers: readonly Layer[], parseCacheSize = 256) {
    this.parser = parser;
    this.parseCacheSize = parseCacheSize;
    this.layers = [...layers].sort((a, b) => LAYER_KINDS.indexOf(b.kind) - LAYER_KINDS.indexOf(a.kind));
  }

  /** Every rule, highest-precedence layer first. */
  get rules(): readonly { id: string; layer: LayerKind; source: string; justification: string }[] {
    return this.layers.flatMap((l) =>
      l.rules.map((r) => ({ id: r.id, layer: r.layer, source: r.source, justification: r.justification })),
    );
  }

  /** @internal Checks every rule's `match` / `not_match` examples. */
  checkExamples(layer: Layer): void {
    const ctx = this.resolveContext(EXAMPLE_CONTEXT);
    for (const rule of layer.rules) {
      const check = (examples: readonly (string | readonly string[])[] | undefined, expected: boolean) => {
        for (const example of examples ?? []) {
          const shown = typeof example === 'string' ? example : example.join(' ');
          const words = exampleWords(this.parser, example);
          if (!words)
            throw new PolicyExampleError(
              layer.source,
              rule.id,
              shown,
              'is not a single simple command with literal words',
            );
          const first = words[0]!;
          const normalised = [{ ...first, value: commandName(first.value) }, ...words.slice(1)];
          if (ruleMatches(rule, normalised, ctx.matchEnv) !== expected) {
            throw new PolicyExampleError(
              layer.source,
              rule.id,
              shown,
              expected
                ? 'does not match the rule (listed in match)'
                : 'matches the rule (listed in not_match)',
            );
          }
        }
      };
      check(rule.spec.match, true);
      check(rule.spec.not_match, false);
    }
  }

  /**
   * Decides whether `command` may run under `context`. The strictest segment decision wins;
   * unparseable input, unsupported constructs and unknown commands are never `allow`.
   */
  evaluate(command: CommandInput, context: EvaluationContext): Evaluation {
    const ctx = this.resolveContext(context);
    const segments: SegmentEvaluation[] = [];
    try {
      if (Array.isArray(command)) {
        const argv = command as readonly string[];
        if (argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
          segments.push(problemSegment('', 0, 'forbidden', 'empty or malformed argv'));
        } else if (argv.some(hasControl)) {
          segments.push(controlSegment(argv.join(' ')));
        } else if (argv.length === 1 && SCRIPT_LIKE.test(argv[0]!)) {
          // A whole script passed as one argument (`codex policy explain -- 'bash -lc "…"'`) is
          // parsed as the script it is, never taken for an unknown program name.
          this.evaluateScript(argv[0]!, 0, ctx, segments);
        } else {
          const words = argv.map((value) => ({ value, literal: true, tilde: false, source: value }));
          this.evaluateWords(words, argv.join(' '), [], [], 0, true, ctx, segments);
        }
      } else if (command && typeof (command as { script?: unknown }).script === 'string') {
        this.evaluateScript((command as { script: string }).script, 0, ctx, segments);
      } else {
        segments.push(problemSegment('', 0, 'forbidden', 'command must be an argv array or { script }'));
      }
    } catch (error) {
      // Fail-safe: an internal error is never allow.
      const message = error instanceof Error ? error.message : String(error);
      segments.push(problemSegment('', 0, 'forbidden', `internal error while evaluating: ${message}`));
    }
    return summarise(segments, ctx.profile);
  }

  private resolveContext(context: EvaluationContext): ResolvedContext {
    const cached = this.contexts.get(context);
    if (cached) return cached;
    if (!context || typeof context.cwd !== 'string')
      throw new PolicyContextError('context.cwd must be an absolute path');
    let resolved: ResolvedContext;
    try {
      const profile = parseProfile(context.profile ?? 'offline');
      const cwd = normalizeAbsolutePath(context.cwd);
      const workspaceRoots = (context.workspaceRoots ?? [cwd]).map(normalizeAbsolutePath);
      const caps = CAPABILITIES[profile];
      const sandbox = toSandboxPolicy(profile, {
        workspaceRoots,
        extraWritableRoots: caps.write === 'workspace' ? (context.extraWritableRoots ?? []) : [],
      });
      const home = context.home === undefined ? undefined : normalizeAbsolutePath(context.home);
      const systemPaths = context.platform === 'win32' ? WINDOWS_SYSTEM : POSIX_SYSTEM;
      resolved = withCwds(
        {
          profile,
          cwd,
          workspaceRoots,
          sandbox,
          systemPaths,
          home,
          network: caps.network !== 'none',
          trusted: profile === 'trusted',
        },
        [cwd],
      );
    } catch (error) {
      if (error instanceof PolicyContextError) throw error;
      throw new PolicyContextError(
        `invalid evaluation context: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    this.contexts.set(context, resolved);
    return resolved;
  }

  private evaluateScript(
    script: string,
    depth: number,
    ctx: ResolvedContext,
    out: SegmentEvaluation[],
  ): void {
    if (script.length > LIMITS.maxScriptLength) {
      out.push(
        problemSegment(
          script.slice(0, 80),
          depth,
          'prompt',
          `script longer than ${LIMITS.maxScriptLength} characters is not analysed`,
        ),
      );
      return;
    }
    if (hasControl(script)) {
      out.push(controlSegment(script, depth));
      return;
    }
    const raw = this.segmentsOf(script);
    if (raw === undefined) {
      out.push(problemSegment(script, depth, 'prompt', 'the parser gave up on this script'));
      return;
    }
    this.evaluateSegments(script, raw, depth, ctx, out);
  }

  /** Parses a script into raw segments, through the LRU parse cache. */
  private segmentsOf(script: string): readonly RawSegment[] | undefined {
    const cacheable = this.parseCacheSize > 0 && script.length <= 4096;
    if (cacheable) {
      const hit = this.parseCache.get(script);
      if (hit !== undefined) {
        this.parseCache.delete(script);
        this.parseCache.set(script, hit);
        return hit;
      }
    }
    const fast = fastSegments(script);
    if (fast !== undefined) {
      if (cacheable) this.remember(script, fast);
      return fast;
    }
    const tree = this.parser.parse(script);
    if (!tree) return undefined;
    let raw: RawSegment[];
    try {
      const root = tree.rootNode;
      const hasError = root.hasError;
      const collector = new SegmentCollector(script, hasError);
      collector.walk(root);
      raw = collector.segments;
      if (hasError && !collector.sawParseError) {
        // Belt and braces: an error the walker did not attribute to a segment still blocks allow.
        raw.push({
          kind: 'construct',
          text: script,
          words: [],
          assignments: [],
          redirects: [],
          problems: [{ decision: 'prompt', reason: 'script does not parse' }],
        });
      }
    } finally {
      tree.delete();
    }
    if (cacheable) this.remember(script, raw);
    return raw;
  }

  private remember(script: string, raw: readonly RawSegment[]): void {
    this.parseCache.set(script, raw);
    if (this.parseCache.size > this.parseCacheSize) {
      this.parseCache.delete(this.parseCache.keys().next().value as string);
    }
  }

  /** @internal The segments tree-sitter gives for a script (the fast path's reference). */
  treeSegments(script: string): RawSegment[] | undefined {
    const tree = this.parser.parse(script);
    if (!tree) return undefined;
    try {
      const collector = new SegmentCollector(script, tree.rootNode.hasError);
      collector.walk(tree.rootNode);
      return tree.rootNode.hasError ? undefined : collector.segments;
    } finally {
      tree.delete();
    }
  }

  private evaluateSegments(
    script: string,
    raw: readonly RawSegment[],
    depth: number,
    ctx: ResolvedContext,
    out: SegmentEvaluation[],
  ): void {
    if (raw.length === 0) {
      out.push(
        problemSegment(
          script,
          depth,
          'prompt',
          script.trim() === ''
            ? 'empty script: nothing to run'
            : 'no simple command found to check (only comments or arithmetic)',
        ),
      );
      return;
    }
    if (out.length + raw.length > LIMITS.maxSegments) {
      out.push(
        problemSegment(
          script.slice(0, 80),
          depth,
          'prompt',
          `more than ${LIMITS.maxSegments} commands are not analysed`,
        ),
      );
      return;
    }
    let scope = ctx;
    for (const seg of raw) {
      const ctx = scope;
      if (seg.kind === 'construct' && seg.words.length === 0) {
        const findings: Finding[] = [...seg.problems];
        const writes: string[] = [];
        this.checkRedirects(seg, ctx, findings, writes);
        this.credentials('a redirect', [], seg.redirects, ctx, findings);
        if (findings.length === 0)
          findings.push({
            decision: 'allow',
            reason: 'redirects of a compound command stay within the rules',
          });
        out.push(makeSegment([], seg.text, depth, findings, [], writes));
        continue;
      }
      this.evaluateWords(
        seg.words,
        seg.text,
        seg.assignments,
        seg.redirects,
        depth,
        false,
        ctx,
        out,
        seg.problems,
      );
      const head = seg.words[0];
      if (head?.literal && (CD.has(head.value) || WRAPPERS.has(head.value)))
        scope = afterCd(
          unwrap(seg.words, [], () => {}),
          scope,
        );
    }
  }

  private checkRedirects(
    seg: Pick<RawSegment, 'redirects'>,
    ctx: ResolvedContext,
    findings: Finding[],
    writes: string[],
  ): void {
    for (const r of seg.redirects) {
      const target = r.target;
      if (r.op === '<<' || r.op === '<<-' || r.op === '<<<' || r.op === '>&-' || r.op === '<&-') continue;
      if (!target) {
        findings.push({ decision: 'prompt', reason: `redirect ${r.op} without a target` });
        continue;
      }
      if ((r.op === '>&' || r.op === '<&') && target.literal && /^([0-9]+-?|-)$/.test(target.value)) continue;
      const reading = r.op === '<' || r.op === '<&';
      if (reading) {
        if (target.literal && NET_DEVICES.test(target.value))
          this.network(ctx, findings, `reads from ${target.value}`);
        continue;
      }
      this.checkWrite(target, ctx, findings, writes, `redirect ${r.op}`);
    }
  }

  private network(ctx: ResolvedContext, findings: Finding[], what: string): void {
    if (!ctx.network)
      findings.push({
        decision: 'prompt',
        reason: `${what}: uses the network, which profile ${ctx.profile} does not allow`,
        cause: 'network',
      });
    else
      findings.push({
        decision: 'allow',
        reason: `${what}: network access is allowed by profile ${ctx.profile}`,
      });
  }

  private checkWrite(
    target: Word,
    ctx: ResolvedContext,
    findings: Finding[],
    writes: string[],
    what: string,
    /** The tool opens the path for writing (redirects, tee, -o); false: it creates, removes, links or renames it. */
    opens = true,
  ): void {
    if (!opens && /^[<>]\(/.test(target.source)) {
      findings.push({
        decision: 'prompt',
        reason: `${what}: a process substitution ${target.source} used as a path`,
      });
      return;
    }
    if (!target.literal) {
      findings.push({
        decision: 'prompt',
        reason: `${what} writes to ${target.source}, which is not a literal path`,
        cause: 'write',
      });
      return;
    }
    if (target.literal && NET_DEVICES.test(target.value)) {
      this.network(ctx, findings, `${what} to ${target.value}`);
      return;
    }
    const paths = resolvePaths(target, ctx);
    if (paths === undefined) {
      findings.push({
        decision: 'prompt',
        reason: `${what} writes to ${target.source}, which cannot be resolved (unknown home or directory)`,
        cause: 'write',
      });
      return;
    }
    for (const path of paths) this.checkWritePath(path, ctx, findings, writes, what, opens);
  }

  private checkWritePath(
    path: string,
    ctx: ResolvedContext,
    findings: Finding[],
    writes: string[],
    what: string,
    opens: boolean,
  ): void {
    // Writing into /dev/null is harmless; removing, replacing or creating it (rm, mv, mkdir -p) is not.
    if (opens && SAFE_DEVICES.test(path)) return;
    writes.push(path);
    const dir = globDir(path);
    const system = ctx.systemPaths.some((s) => isWithin(dir, s)) || dir === '/';
    if (ctx.trusted) {
      if (system)
        findings.push({
          decision: 'prompt',
          reason: `${what} writes to system path ${path}`,
          cause: 'write',
        });
      return;
    }
    // Explicit writable roots win (a workspace or extra root may lie under /var or /opt).
    if (isWritable(ctx.sandbox, dir) && dir !== '/') return;
    if (system) {
      findings.push({
        decision: 'forbidden',
        reason: `${what} writes to system path ${path}`,
        cause: 'write',
      });
      return;
    }
    findings.push({
      decision: 'forbidden',
      reason: `${what} writes ${path}, outside the writable roots of profile ${ctx.profile}`,
      cause: 'write',
    });
  }

  private evaluateWords(
    input: readonly Word[],
    text: string,
    assignments: RawSegment['assignments'],
    redirects: RawSegment['redirects'],
    depth: number,
    topLevelArgv: boolean,
    ctx: ResolvedContext,
    out: SegmentEvaluation[],
    problems: readonly Finding[] = [],
  ): void {
    const findings: Finding[] = [...problems];
    const writes: string[] = [];
    const matched: MatchedRule[] = [];
    for (const a of assignments) {
      if (isDangerousName(a.name))
        findings.push({
          decision: 'prompt',
          reason: `sets ${a.name}, which changes what later commands run`,
        });
    }
    this.checkRedirects({ redirects }, ctx, findings, writes);
    this.credentials('a redirect', [], redirects, ctx, findings);
    let words = unwrap(input, findings, (w, what) => this.checkWrite(w, ctx, findings, writes, what));
    if (words.length === 0) {
      if (findings.length === 0)
        findings.push({
          decision: 'allow',
          reason: input.length === 0 ? 'only sets variables or redirects' : 'wrapper without a command',
        });
      out.push(makeSegment(input.map(shown), text, depth, findings, matched, writes));
      return;
    }
    const name = words[0]!;
    if (!name.literal) {
      findings.push({
        decision: 'prompt',
        reason: `command name ${name.source} is not a literal (expansion in command position)`,
      });
      out.push(makeSegment(input.map(shown), text, depth, findings, matched, writes));
      return;
    }
    const cmd = commandName(name.value);
    if (cmd !== name.value) words = [{ ...name, value: cmd }, ...words.slice(1)];

    if (SHELLS.has(cmd)) {
      const nested = shellScript(words);
      if (nested.kind === 'script') {
        if (!topLevelArgv || depth > 0)
          findings.push({ decision: 'prompt', reason: `nested shell: ${cmd} -c inside a command` });
        else findings.push({ decision: 'allow', reason: `${cmd} -c script: decided by its commands` });
        out.push(makeSegment(input.map(shown), text, depth, findings, matched, writes));
        if (depth + 1 > LIMITS.maxShellDepth) {
          out.push(
            problemSegment(
              nested.script,
              depth + 1,
              'prompt',
              `shell nesting deeper than ${LIMITS.maxShellDepth}`,
            ),
          );
        } else {
          this.evaluateScript(nested.script, depth + 1, ctx, out);
        }
        return;
      }
      findings.push({ decision: 'prompt', reason: nested.reason });
      out.push(makeSegment(input.map(shown), text, depth, findings, matched, writes));
      return;
    }

    // Rules: the highest-precedence layer with a matching rule decides (strictest within it);
    // network and write effects of every matching rule in every layer always apply.
    let decided: Decision | undefined;
    let deciding: CompiledRule[] = [];
    let network = false;
    const writeRules: CompiledRule[] = [];
    const tightening: CompiledRule[] = [];
    for (const layer of this.layers) {
      const candidates = layer.byName.get(cmd);
      const hits: CompiledRule[] = [];
      if (candidates) for (const r of candidates) if (ruleMatches(r, words, ctx.matchEnv)) hits.push(r);
      for (const r of layer.dynamic) if (ruleMatches(r, words, ctx.matchEnv)) hits.push(r);
      if (hits.length === 0) continue;
      for (const r of hits) {
        const d = r.decisions[ctx.profile];
        matched.push(r.matched[ctx.profile]);
        if (r.network) network = true;
        if (r.writes !== undefined || r.writeOptions.length > 0) writeRules.push(r);
        if (layer.kind === 'admin' && d === 'forbidden') decided = 'forbidden';
      }
      if (layer.tightenOnly) {
        // An untrusted project layer never decides; it can only add a stricter finding.
        tightening.push(...hits);
        continue;
      }
      if (deciding.length === 0) {
        deciding = hits;
        for (const r of hits)
          decided =
            decided === undefined ? r.decisions[ctx.profile] : stricter(decided, r.decisions[ctx.profile]);
      }
    }
    if (decided === undefined) {
      const known = this.layers.some((l) => l.byName.has(cmd));
      findings.push({
        decision: 'prompt',
        reason: known ? `no rule covers "${cmd}" with these arguments` : `unknown command "${cmd}"`,
        cause: known ? 'unlisted-arguments' : 'unknown-command',
      });
    } else {
      for (const r of deciding) {
        const d = r.decisions[ctx.profile];
        if (d === decided) findings.push({ decision: d, reason: r.reason, cause: 'rule' });
      }
      if (decided === 'allow' && !deciding.every((r) => r.anyArguments)) {
        const dynamic = words.find((w, i) => i > 0 && !w.literal);
        if (dynamic)
          findings.push({
            decision: 'prompt',
            reason: `argument ${dynamic.source} is not literal, so the rule cannot be proven to apply`,
          });
      }
    }
    for (const r of tightening) {
      const d = r.decisions[ctx.profile];
      if (d !== 'allow')
        findings.push({ decision: d, reason: `${r.reason} (tighten-only layer)`, cause: 'rule' });
    }
    if (network) this.network(ctx, findings, cmd);
    for (const r of writeRules) this.ruleWrites(r, words, ctx, findings, writes);
    // An approval or user rule whose prefix spells out a risky option covers it; the default
    // layer's broad rules (`rg`, `find`) never do.
    let covered = 0;
    for (const r of deciding)
      if (r.layer !== 'default' && r.prefix.length > covered) covered = r.prefix.length;
    this.hazards(cmd, words, covered, ctx, findings, writes);
    this.credentials(cmd, words, [], ctx, findings);
    out.push(makeSegment(input.map(shown), text, depth, findings, matched, writes));
  }

  /** Option-table effects (exec, write, prompt) and builtins that assign variables. */
  private hazards(
    cmd: string,
    words: readonly Word[],
    covered: number,
    ctx: ResolvedContext,
    findings: Finding[],
    writes: string[],
  ): void {
    const builtin = BUILTIN_NAMES.get(cmd);
    if (builtin) builtin(words, findings);
    const spec = toolSpec(cmd);
    if (!spec) return;
    if (!spec.operandWrites && !spec.writesCwdUnless && !spec.plus && !spec.strict) {
      // Nothing can be found without an option (or a word that might expand to one).
      let options = false;
      for (let i = 1; i < words.length && !options; i++)
        options = !words[i]!.literal || words[i]!.value.charCodeAt(0) === 45;
      if (!options) return;
    }
    const analysis: OptionAnalysis = analyseOptions(cmd, spec, words);
    for (const f of analysis.findings) {
      if (f.index < covered) continue;
      if (f.effect === 'write' && f.value) this.checkWrite(f.value, ctx, findings, writes, f.reason);
      else findings.push({ decision: 'prompt', reason: f.reason });
    }
    const ops = analysis.operands;
    const remote = cmd === 'scp' || cmd === 'rsync';
    const opens = cmd === 'uniq' || cmd === 'xxd';
    const opWrite = (i: number) => {
      const w = words[i];
      if (!w || (w.literal && w.value === '-')) return;
      if (remote && w.literal && /^[^/]*:/.test(w.value)) return;
      this.checkWrite(w, ctx, findings, writes, `${cmd} writes its operand ${shown(w)}`, opens);
    };
    if (spec.operandWrites === 'all') ops.forEach(opWrite);
    else if (spec.operandWrites === 'last') {
      if (ops.length > 0) opWrite(ops[ops.length - 1]!);
      if (ops.length === 1 && cmd === 'ln') {
        const w = words[ops[0]!]!;
        const base =
          w.value
            .replace(/[/\\]+$/, '')
            .split(/[/\\]/)
            .pop() ?? '';
        this.checkWrite(
          { ...w, value: base || '.', tilde: false },
          ctx,
          findings,
          writes,
          'ln creates a link in the working directory',
          false,
        );
      }
    } else if (spec.operandWrites)
      for (const k of spec.operandWrites) if (ops[k] !== undefined) opWrite(ops[k]!);
    if (spec.writesCwdUnless && !spec.writesCwdUnless.some((o) => analysis.seen.has(o))) {
      this.checkWrite(CWD_WORD, ctx, findings, writes, `${cmd} writes into the working directory`);
    }
  }

  /** Reads of well-known credential files (and recursive reads or globs that reach them) prompt. */
  private credentials(
    cmd: string,
    words: readonly Word[],
    redirects: RawSegment['redirects'],
    ctx: ResolvedContext,
    findings: Finding[],
  ): void {
    let where = this.cwdKinds.get(ctx);
    if (where === undefined) {
      where = {
        secret: ctx.cwds === undefined ? false : ctx.cwds.some((c) => isCredentialPath(c, ctx.home)),
        // Relative operands reach above the home directory only from a working directory that does.
        broad: ctx.cwds === undefined || ctx.cwds.some((c) => this.homeOrAbove(c, ctx)),
      };
      this.cwdKinds.set(ctx, where);
    }
    const cwdSecret = where.secret;
    const cwdBroad = where.broad;
    const recursive = RECURSIVE_READERS.has(cmd);
    const check = (w: Word | undefined) => {
      if (!w?.literal) return;
      const eq = w.value.startsWith('-') ? w.value.indexOf('=') : -1;
      const v = eq === -1 ? w.value : w.value.slice(eq + 1);
      if (v === '' || (v.startsWith('-') && eq === -1)) return;
      if (!cwdSecret && !cwdBroad && !INTERESTING_PATH.test(v)) return;
      const word = eq === -1 ? w : { ...w, value: v, tilde: v.startsWith('~') };
      let secret = isCredentialPath(v, ctx.home) || (cwdSecret && !/^[/~]/.test(v));
      if (!secret && URL_LIKE.test(v)) return; // file:///…/.ssh/… is caught just above
      let paths: string[] | undefined;
      if (!secret && (v.includes('..') || /[*?[]/.test(v) || v.startsWith('~') || v.startsWith('/'))) {
        paths = resolvePaths(word, ctx);
        if (paths?.some((p) => isCredentialPath(p, ctx.home))) secret = true;
      }
      if (secret) {
        findings.push({ decision: 'prompt', reason: `${cmd} reads ${v}, a credential location` });
        return;
      }
      if (/[*?[]/.test(v) || (recursive && (cwdBroad || /^[/~]|\.\./.test(v)))) {
        paths ??= resolvePaths(word, ctx);
        const broad = paths?.some((p) => this.homeOrAbove(globDir(p), ctx));
        if (broad)
          findings.push({
            decision: 'prompt',
            reason: `${cmd} ${v} reaches into a home directory, where credential files live`,
          });
      }
    };
    for (let i = 1; i < words.length; i++) check(words[i]);
    for (const r of redirects) if (r.op === '<' || r.op === '<>') check(r.target);
  }

  private homeOrAbove(dir: string, ctx: ResolvedContext): boolean {
    if (dir === '/' || /^\/(home|Users|root)(\/[^/]+)?\/?$/.test(dir)) return true;
    return ctx.home !== undefined && isWithin(ctx.home, dir);
  }

  private ruleWrites(
    rule: CompiledRule,
    words: readonly Word[],
    ctx: ResolvedContext,
    findings: Finding[],
    writes: string[],
  ): void {
    const args = words.slice(rule.prefix.length);
    const what = `${words[0]!.value} (${rule.id})`;
    const remote = rule.network;
    const check = (w: Word, opens = true) => {
      if (w.literal && w.value === '-') return;
      if (remote && w.literal && /^[^/]*:/.test(w.value)) return; // host:path of scp/rsync
      this.checkWrite(w, ctx, findings, writes, what, opens);
    };
    if (rule.writes !== undefined) {
      const ops = operandsOf(args);
      const opens = words[0]!.value === 'tee';
      if (rule.writes === 'operands') for (const w of ops) check(w, opens);
      else if (ops.length > 0) check(ops[ops.length - 1]!, opens);
    }
    for (const opt of rule.writeOptions) {
      for (let i = 0; i < args.length; i++) {
        const w = args[i]!;
        if (!w.literal) continue;
        const v = w.value;
        if (opt.endsWith('=')) {
          if (v.startsWith(opt))
            check({ ...w, value: v.slice(opt.length), tilde: v.slice(opt.length).startsWith('~') });
        } else if (v === opt) {
          const next = args[i + 1];
          if (next) check(next);
          else findings.push({ decision: 'prompt', reason: `${what}: ${opt} without a value` });
        } else if (opt.startsWith('--') && v.startsWith(`${opt}=`)) {
          const value = v.slice(opt.length + 1);
          check({ ...w, value, tilde: value.startsWith('~') });
        } else if (/^-[A-Za-z]$/.test(opt) && v.startsWith(opt) && v.length > 2 && !v.startsWith('--')) {
          check({ ...w, value: v.slice(2), tilde: false });
        }
      }
    }
  }
}

type BaseContext = Omit<ResolvedContext, 'matchEnv' | 'cwds'>;

function withCwds(base: BaseContext, cwds: readonly string[] | undefined): ResolvedContext {
  const { matchEnv: _m, cwds: _c, ...rest } = base as ResolvedContext;
  const ctx: BaseContext & { cwds: readonly string[] | undefined } = { ...rest, cwds };
  return {
    ...ctx,
    matchEnv: {
      outsideWorkspace: (w: Word) => {
        if (!w.literal) return false; // unresolvable operands are handled by the non-literal rule (prompt)
        const paths = resolvePaths(w, ctx);
        if (paths === undefined) return true; // `~` without a known home, `~user`, unknown cwd: outside
        return paths.some((path) => !ctx.workspaceRoots.some((root) => isWithin(path, root)));
      },
    },
  };
}

const CD = new Set(['cd', 'pushd', 'popd']);

/** Tracks `cd` / `pushd` / `popd` so later relative paths resolve against every possible directory. */
function afterCd(words: readonly Word[], ctx: ResolvedContext): ResolvedContext {
  const name = words[0]?.literal ? words[0].value : undefined;
  if (name !== 'cd' && name !== 'pushd' && name !== 'popd') return ctx;
  if (ctx.cwds === undefined) return ctx;
  const args = words.slice(1).filter((w) => !(w.literal && /^-[LPe@]+$/.test(w.value)));
  if (name === 'popd' || args.length !== 1) {
    if (name !== 'popd' && args.length === 0 && ctx.home !== undefined)
      return withCwds(ctx, [...new Set([...ctx.cwds, ctx.home])]);
    return withCwds(ctx, undefined);
  }
  const target = args[0]!;
  if (!target.literal || target.value === '-') return withCwds(ctx, undefined);
  const next = resolvePaths(target, ctx);
  if (next === undefined) return withCwds(ctx, undefined);
  return withCwds(ctx, [...new Set([...ctx.cwds, ...next])]);
}

const WRAPPERS = new Set(Object.keys(WRAPPER_SPECS));

const CWD_WORD: Word = { value: '.', literal: true, tilde: false, source: '.' };
const XARGS_INPUT: Word = { value: '{xargs input}', literal: false, tilde: false, source: '{xargs input}' };

/**
 * Strips wrappers that run their operand as a command (env, time, nice, nohup, timeout, command,
 * builtin, exec, xargs, stdbuf), reading their options with the wrapper's own option table.
 */
function unwrap(
  words: readonly Word[],
  findings: Finding[],
  write: (w: Word, what: string) => void,
): readonly Word[] {
  let w = words;
  for (let guard = 0; guard < 16 && w.length > 0; guard++) {
    const head = w[0]!;
    if (!head.literal) return w;
    const name = commandName(head.value);
    const spec = WRAPPER_SPECS[name];
    if (!spec || !Object.hasOwn(WRAPPER_SPECS, name)) return w;
    const analysis = analyseOptions(name, spec, w);
    for (const f of analysis.findings) {
      if (f.effect === 'write' && f.value) write(f.value, f.reason);
      else findings.push({ decision: 'prompt', reason: f.reason });
    }
    if (findings.some((f) => f.decision === 'prompt' && f.reason.includes('splits a string'))) return [];
    if (name === 'command' && (analysis.seen.has('-v') || analysis.seen.has('-V'))) {
      findings.push({ decision: 'allow', reason: 'command -v only looks a name up' });
      return [];
    }
    let i = analysis.firstOperand;
    if (name === 'timeout') i += 1; // the duration
    if (name === 'env') {
      while (i < w.length && w[i]!.literal && /^[^=]+=/.test(w[i]!.value)) {
        const varName = w[i]!.value.slice(0, w[i]!.value.indexOf('='));
        if (isDangerousName(varName) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(varName))
          findings.push({
            decision: 'prompt',
            reason: `env sets ${varName}, which changes what the command runs or loads`,
          });
        i++;
      }
      if (i < w.length && !w[i]!.literal) {
        findings.push({
          decision: 'prompt',
          reason: `env: ${w[i]!.source} may be an assignment or a command`,
        });
      }
    }
    if (name === 'xargs') {
      if (i >= w.length) return [{ value: 'echo', literal: true, tilde: false, source: 'xargs' }];
      return [...w.slice(i), XARGS_INPUT];
    }
    w = w.slice(i);
  }
  return w;
}

type NameCheck = (words: readonly Word[], findings: Finding[]) => void;

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?$/;

function checkName(cmd: string, w: Word | undefined, findings: Finding[], what = 'assigns'): void {
  if (!w) return;
  if (!w.literal) {
    findings.push({
      decision: 'prompt',
      reason: `${cmd} ${what} a variable named by ${w.source}, which is not literal`,
    });
    return;
  }
  const eq = w.value.indexOf('=');
  const name = eq === -1 ? w.value : w.value.slice(0, eq).replace(/\+$/, '');
  if (!PLAIN_NAME.test(name)) {
    findings.push({
      decision: 'prompt',
      reason: `${cmd} ${what} ${JSON.stringify(name)}: a subscript is evaluated as arithmetic, which can run commands`,
    });
  } else if (isDangerousName(name.replace(/\[.*$/, ''))) {
    findings.push({
      decision: 'prompt',
      reason: `${cmd} ${what} ${name}, which changes what later commands run or load`,
    });
  }
}

/** Reads bash builtin options (`-ab`, `-a value`); calls `onOption` / `onOperand`. */
function builtinArgs(
  words: readonly Word[],
  withValue: string,
  onOption: (letter: string, value: Word | undefined, index: number) => void,
  onOperand: (w: Word, index: number) => void,
): void {
  let options = true;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (options && w.literal && w.value === '--') {
      options = false;
      continue;
    }
    if (options && w.literal && /^[-+][A-Za-z]/.test(w.value)) {
      for (let j = 1; j < w.value.length; j++) {
        const letter = w.value[j]!;
        if (withValue.includes(letter)) {
          const glued = w.value.slice(j + 1);
          const value = glued ? { ...w, value: glued, source: glued } : words[++i];
          onOption(letter, value, i);
          break;
        }
        onOption(letter, undefined, i);
      }
      continue;
    }
    options = false;
    onOperand(w, i);
  }
}

const DECLARE: NameCheck = (words, findings) => {
  const cmd = words[0]!.value;
  builtinArgs(
    words,
    '',
    (letter) => {
      if (letter === 'n' || letter === 'i')
        findings.push({
          decision: 'prompt',
          reason:
            letter === 'n'
              ? `${cmd} -n makes a name reference, whose target is evaluated later`
              : `${cmd} -i evaluates every later assignment as arithmetic`,
        });
    },
    (w) => checkName(cmd, w, findings, 'sets'),
  );
};

/** Builtins that assign (or test) variables named by their arguments. */
const BUILTIN_NAMES = new Map<string, NameCheck>(
  Object.entries({
    declare: DECLARE,
    typeset: DECLARE,
    local: DECLARE,
    export: DECLARE,
    readonly: DECLARE,
    unset: (words, findings) =>
      builtinArgs(
        words,
        '',
        () => {},
        (w) => checkName('unset', w, findings, 'unsets'),
      ),
    printf: (words, findings) => {
      const first = words[1];
      if (!first) return;
      if (!first.literal && /^["']?-/.test(first.source))
        findings.push({ decision: 'prompt', reason: `printf option ${first.source} is not literal` });
      if (first.literal && first.value.startsWith('-v'))
        checkName(
          'printf -v',
          first.value.length > 2 ? { ...first, value: first.value.slice(2) } : words[2],
          findings,
        );
    },
    read: (words, findings) =>
      builtinArgs(
        words,
        'adinNptu',
        (letter, value) => {
          if (letter === 'a') checkName('read -a', value, findings);
        },
        (w) => checkName('read', w, findings),
      ),
    getopts: (words, findings) => checkName('getopts', words[2], findings),
    wait: (words, findings) =>
      builtinArgs(
        words,
        'p',
        (letter, value) => {
          if (letter === 'p') checkName('wait -p', value, findings);
        },
        () => {},
      ),
    hash: (words, findings) =>
      builtinArgs(
        words,
        'p',
        (letter) => {
          if (letter === 'p')
            findings.push({ decision: 'prompt', reason: 'hash -p makes a command name run another program' });
        },
        () => {},
      ),
    test: (words: readonly Word[], findings: Finding[]) => testNames('test', words, findings),
    '[': (words: readonly Word[], findings: Finding[]) => testNames('[', words, findings),
  } satisfies Record<string, NameCheck>),
);

function testNames(cmd: string, words: readonly Word[], findings: Finding[]): void {
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (!w.literal && /^["']?-/.test(w.source))
      findings.push({ decision: 'prompt', reason: `${cmd}: operator ${w.source} is not literal` });
    if (w.literal && (w.value === '-v' || w.value === '-R'))
      checkName(`${cmd} ${w.value}`, words[i + 1], findings, 'tests');
  }
}

type NestedShell = { kind: 'script'; script: string } | { kind: 'other'; reason: string };

/** Finds the script of `bash -c 'script'`, `sh -lc …`, `zsh -e -c …`. */
function shellScript(words: readonly Word[]): NestedShell {
  const name = words[0]!.value;
  let hasC = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (!w.literal) return { kind: 'other', reason: `${name} with a non-literal argument ${w.source}` };
    const v = w.value;
    if (v === '--' || v === '-') continue;
    if (/^-[a-zA-Z]+$/.test(v)) {
      if (v.includes('o') || v.includes('O')) i++; // -o option / -O shopt take a value
      if (v.includes('c')) hasC = true;
      if (v.includes('s') || v.includes('i'))
        return { kind: 'other', reason: `${name} ${v} reads commands from stdin or runs interactively` };
      continue;
    }
    if (/^\+[a-zA-Z]+$/.test(v)) continue;
    if (v === '--login' || v === '--noprofile' || v === '--norc' || v === '--posix' || v === '--restricted')
      continue;
    if (v.startsWith('--')) return { kind: 'other', reason: `${name} ${v} is not understood` };
    if (hasC) return { kind: 'script', script: v };
    return { kind: 'other', reason: `${name} runs the script file ${v}, which the engine cannot see` };
  }
  if (hasC) return { kind: 'other', reason: `${name} -c without a script` };
  return { kind: 'other', reason: `${name} reads commands from stdin` };
}

/** `/usr/bin/rm` → `rm`; other paths (`./rm`) stay as written, so they are unknown commands. */
function commandName(value: string): string {
  if (!value.includes('/')) return value;
  return STANDARD_BIN.test(value) ? value.slice(value.lastIndexOf('/') + 1) : value;
}

/** Absolute path(s) a literal word names: one per possible cwd for relative paths; undefined when unknown. */
function resolvePaths(
  w: Word,
  ctx: { cwds: readonly string[] | undefined; home: string | undefined },
): string[] | undefined {
  let p = w.value;
  if (p.length === 0 || p.includes('\0')) return undefined;
  if (w.tilde) {
    if (p !== '~' && !p.startsWith('~/')) return undefined; // ~user
    if (ctx.home === undefined) return undefined;
    p = ctx.home + p.slice(1);
  }
  const absolute = p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || /^[\\/]{2}/.test(p);
  try {
    if (absolute) return [normalizeAbsolutePath(p)];
    if (ctx.cwds === undefined) return undefined;
    return ctx.cwds.map((cwd) => joinPath(cwd, p));
  } catch (error) {
    if (error instanceof CodexError) return absolute && p.startsWith('/') ? ['/'] : undefined; // `/..` climbs to /
    throw error;
  }
}

/** For a path with glob characters, the deepest directory without them. */
function globDir(path: string): string {
  const i = path.search(/[*?[]/);
  if (i === -1) return path;
  const cut = path.slice(0, i);
  const sep = Math.max(cut.lastIndexOf('/'), cut.lastIndexOf('\\'));
  return sep <= 0 ? path.slice(0, 1) : path.slice(0, sep);
}

function shown(w: Word): string {
  return w.literal ? w.value : w.source;
}

/** CONTROL.test without the regex for the common all-printable-ASCII case. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10) || c === 0x7f) return true;
    if (c >= 0x80) return CONTROL.test(text);
  }
  return false;
}

function controlSegment(text: string, depth = 0): SegmentEvaluation {
  return problemSegment(
    text.slice(0, 80),
    depth,
    'prompt',
    'contains control or invisible characters, which the shell and a reader may see differently',
  );
}

function problemSegment(text: string, depth: number, decision: Decision, reason: string): SegmentEvaluation {
  return { argv: [], text, depth, decision, reasons: [reason], causes: ['other'], rules: [], writes: [] };
}

function makeSegment(
  argv: readonly string[],
  text: string,
  depth: number,
  findings: readonly Finding[],
  rules: readonly MatchedRule[],
  writes: readonly string[],
): SegmentEvaluation {
  let decision: Decision = 'allow';
  for (const f of findings) decision = stricter(decision, f.decision);
  if (findings.length === 0) decision = 'prompt';
  const deciding = findings.filter((f) => f.decision === decision);
  const reasons = deciding.map((f) => f.reason);
  return {
    argv,
    text,
    depth,
    decision,
    reasons: reasons.length > 0 ? reasons : ['no rule decided this command'],
    causes: deciding.length > 0 ? deciding.map((f) => f.cause ?? 'other') : ['other'],
    rules,
    writes,
  };
}

function summarise(segments: readonly SegmentEvaluation[], profile: SecurityProfile): Evaluation {
  if (segments.length === 1) {
    const s = segments[0]!;
    const reasons =
      s.text && s.decision !== 'allow' ? s.reasons.map((r) => `${r} [${clip(s.text)}]`) : s.reasons;
    return {
      decision: s.decision,
      reasons,
      causes: [...new Set(s.causes)],
      matchedRules: s.rules,
      segments,
      profile,
    };
  }
  let decision: Decision = segments.length === 0 ? 'prompt' : 'allow';
  for (const s of segments) decision = stricter(decision, s.decision);
  const reasons: string[] = [];
  const causes = new Set<FindingCause>();
  const seen = new Set<string>();
  for (const s of segments) {
    if (s.decision !== decision) continue;
    for (const c of s.causes) causes.add(c);
    for (const r of s.reasons) {
      const line = s.text && decision !== 'allow' ? `${r} [${clip(s.text)}]` : r;
      if (!seen.has(line)) {
        seen.add(line);
        reasons.push(line);
      }
    }
  }
  // Matched-rule views are shared objects (one per rule and profile), so identity dedupes them.
  const rules: MatchedRule[] = [];
  const ruleSeen = new Set<MatchedRule>();
  for (const s of segments) {
    for (const r of s.rules) {
      if (!ruleSeen.has(r)) {
        ruleSeen.add(r);
        rules.push(r);
      }
    }
  }
  rules.sort((a, b) => rank(b.decision) - rank(a.decision));
  return { decision, reasons, causes: [...causes], matchedRules: rules, segments, profile };
}

function clip(text: string): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 60)}…` : one;
}

/** Loads and validates the layers, checks every rule's examples, and returns a ready engine. */
export async function createPolicyEngine(options: PolicyEngineOptions = {}): Promise<PolicyEngine> {
  const parser = await createBashParser();
  const layers: Layer[] = [];
  if (options.defaults !== false)
    layers.push(buildLayer('default', 'builtin', parsePolicyObject(DEFAULT_POLICY, 'builtin')));
  for (const layer of options.layers ?? []) {
    if (!LAYER_KINDS.includes(layer.kind) || layer.kind === ('default' as LayerKind)) {
      throw new PolicyLoadError(
        layer.source,
        'layer',
        `unknown layer kind ${JSON.stringify(layer.kind)}; use user, project or admin`,
      );
    }
    const spec =
      typeof layer.policy === 'string'
        ? parsePolicyText(layer.policy, layer.source, layer.format)
        : parsePolicyObject(layer.policy, layer.source);
    if (spec.layer !== undefined && spec.layer !== layer.kind) {
      throw new PolicyLoadError(
        layer.source,
        'layer',
        `file declares layer "${spec.layer}" but is loaded as "${layer.kind}"`,
      );
    }
    layers.push(
      buildLayer(layer.kind, layer.source, spec, layer.kind === 'project' && layer.trusted !== true),
    );
  }
  const engine = new PolicyEngine(parser, layers, options.parseCacheSize ?? 256);
  for (const layer of layers) engine.checkExamples(layer);
  return engine;
}

let defaultEngine: Promise<PolicyEngine> | undefined;

/**
 * Convenience: evaluates with the built-in defaults only (plus `options.layers`, which creates a
 * fresh engine). For many evaluations, create an engine once and call its synchronous `evaluate`.
 */
export async function evaluate(
  command: CommandInput,
  context: EvaluationContext,
  options?: PolicyEngineOptions,
): Promise<Evaluation> {
  if (options?.layers?.length || options?.defaults === false)
    return (await createPolicyEngine(options)).evaluate(command, context);
  defaultEngine ??= createPolicyEngine().catch((error: unknown) => {
    defaultEngine = undefined;
    throw error;
  });
  return (await defaultEngine).evaluate(command, context);
}
