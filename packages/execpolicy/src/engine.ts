import { CAPABILITIES, normalizeAbsolutePath, parseProfile, toSandboxPolicy } from '@codex/security-profile';
import type { Parser } from 'web-tree-sitter';
import { afterCd, CD, type Finding, type ResolvedContext, withCwds } from './context.js';
import { credentials } from './credentials.js';
import { BUILTIN_POLICY_SPEC } from './default-policy.js';
import { ParserNotLoadedError, PolicyContextError, PolicyExampleError, PolicyLoadError } from './errors.js';
import { fastSegments } from './fastpath.js';
import { commandName, SHELLS, shellScript, unwrap, WRAPPERS } from './normalize.js';
import { createBashParser } from './parser.js';
import { controlSegment, makeSegment, problemSegment, shown, summarise } from './result.js';
import { type CompiledRule, compileRule, ruleMatches } from './rules.js';
import { type PolicyInput, type PolicySpec, parsePolicyObject, parsePolicyText } from './schema.js';
import { isDangerousName, type RawSegment, SegmentCollector, type Word } from './shell.js';
import {
  type CommandInput,
  type Decision,
  type Evaluation,
  type EvaluationContext,
  LAYER_KINDS,
  type LayerKind,
  type MatchedRule,
  type SegmentEvaluation,
  stricter,
} from './types.js';
import {
  checkNetwork,
  checkRedirects,
  checkWrite,
  hazards,
  POSIX_SYSTEM,
  ruleWrites,
  WINDOWS_SYSTEM,
} from './writes.js';

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
  /**
   * When to load the bash parser (web-tree-sitter and the grammar, about 2.3 MB of wasm):
   * `'eager'` (default) before `createPolicyEngine` resolves, so `evaluate` always works;
   * `'on-demand'` on the first script the built-in fast path cannot read. Argv and plain scripts
   * (`git status && ls | wc -l`) then never load it. An on-demand engine is used through
   * {@link PolicyEngine.evaluateAsync}; its synchronous `evaluate` throws
   * {@link ParserNotLoadedError} for a script that needs the parser before it is loaded.
   */
  readonly parser?: 'eager' | 'on-demand';
  /**
   * Called once, just before the bash parser's wasm is compiled. A one-shot host can switch its
   * WebAssembly compiler there (the CLI keeps V8 to its baseline tier), and pay nothing for it
   * when no command needs the parser.
   */
  readonly beforeParserLoad?: () => void;
}

/** Thrown inside evaluation when a script needs the parser and it is not loaded yet. */
class ParserNeeded extends Error {}

/** Limits that keep evaluation bounded on hostile input. Beyond them the answer is `prompt`. */
export const LIMITS = { maxScriptLength: 100_000, maxShellDepth: 4, maxSegments: 64 } as const;

/** C0 controls other than tab and newline, DEL, and Unicode line separators / bidi overrides. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** Shell syntax in a single argv element: it is a script, not a program name. */
const SCRIPT_LIKE = /[\s;&|<>()$`'"\\*?[\]{}~#!=]/;

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

/**
 * Splits a shell word list out of an example string: through the fast path when it can read the
 * example (it yields exactly the parser's segments), else with the real parser.
 */
function exampleWords(parser: () => Parser, example: string | readonly string[]): Word[] | undefined {
  if (typeof example !== 'string') {
    return example.map((value) => ({ value, literal: true, tilde: false, source: value }));
  }
  const fast = fastSegments(example);
  if (fast !== undefined) return singleCommand(fast);
  const tree = parser().parse(example);
  if (!tree) return undefined;
  try {
    if (tree.rootNode.hasError) return undefined;
    const collector = new SegmentCollector(example);
    collector.walk(tree.rootNode);
    return singleCommand(collector.segments);
  } finally {
    tree.delete();
  }
}

/** The words of a single simple command with literal words and no redirects, else undefined. */
function singleCommand(segs: readonly RawSegment[]): Word[] | undefined {
  const only = segs[0];
  if (!only || only.words.some((w) => !w.literal) || only.redirects.length > 0) return undefined;
  if (
    only.assignments.length > 0 &&
    !/^(export|declare|local|readonly|typeset)$/.test(only.words[0]?.value ?? '')
  ) {
    return undefined;
  }
  if (segs.length !== 1 || only.kind !== 'command' || only.words.length === 0) return undefined;
  return [...only.words];
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
  private parser: Parser | undefined;
  private parserLoading: Promise<void> | undefined;
  private readonly contexts = new WeakMap<EvaluationContext, ResolvedContext>();

  /** @internal use {@link createPolicyEngine}. */
  private readonly parseCache = new Map<string, readonly RawSegment[]>();
  private readonly parseCacheSize: number;

  private readonly beforeParserLoad: (() => void) | undefined;

  constructor(
    parser: Parser | undefined,
    layers: readonly Layer[],
    parseCacheSize = 256,
    beforeParserLoad?: () => void,
  ) {
    this.parser = parser;
    this.parseCacheSize = parseCacheSize;
    this.beforeParserLoad = beforeParserLoad;
    this.layers = [...layers].sort((a, b) => LAYER_KINDS.indexOf(b.kind) - LAYER_KINDS.indexOf(a.kind));
  }

  /** Every rule, highest-precedence layer first. */
  get rules(): readonly { id: string; layer: LayerKind; source: string; justification: string }[] {
    return this.layers.flatMap((l) =>
      l.rules.map((r) => ({ id: r.id, layer: r.layer, source: r.source, justification: r.justification })),
    );
  }

  /**
   * @internal Checks every rule's `match` / `not_match` examples. With `skipUnparsed`, examples
   * only the real parser can read are skipped while it is not loaded (the built-in layer's, which
   * every eager engine, and so the test suite, checks in full).
   */
  checkExamples(layer: Layer, skipUnparsed = false): void {
    const ctx = this.resolveContext(EXAMPLE_CONTEXT);
    for (const rule of layer.rules) {
      const check = (examples: readonly (string | readonly string[])[] | undefined, expected: boolean) => {
        for (const example of examples ?? []) {
          const shown = typeof example === 'string' ? example : example.join(' ');
          let words: Word[] | undefined;
          try {
            words = exampleWords(this.requireParser, example);
          } catch (error) {
            if (skipUnparsed && error instanceof ParserNeeded) continue;
            throw error;
          }
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
    const result = this.tryEvaluate(command, context);
    if (result instanceof ParserNeeded) {
      throw new ParserNotLoadedError(
        'this engine loads its bash parser on demand and the command needs it: use evaluateAsync',
      );
    }
    return result;
  }

  /**
   * {@link PolicyEngine.evaluate}, loading the bash parser first when the command needs it and it
   * is not loaded yet (engines created with `parser: 'on-demand'`). Same result as `evaluate`.
   */
  async evaluateAsync(command: CommandInput, context: EvaluationContext): Promise<Evaluation> {
    const result = this.tryEvaluate(command, context);
    if (!(result instanceof ParserNeeded)) return result;
    await this.loadParser();
    return this.evaluate(command, context);
  }

  /** @internal Loads the bash parser if it is not loaded yet. */
  async loadParser(): Promise<void> {
    if (this.parser) return;
    if (!this.parserLoading) this.beforeParserLoad?.();
    this.parserLoading ??= createBashParser().then(
      (parser) => {
        this.parser = parser;
      },
      (error: unknown) => {
        this.parserLoading = undefined;
        throw error;
      },
    );
    await this.parserLoading;
  }

  private readonly requireParser = (): Parser => {
    if (!this.parser) throw new ParserNeeded();
    return this.parser;
  };

  private tryEvaluate(command: CommandInput, context: EvaluationContext): Evaluation | ParserNeeded {
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
      if (error instanceof ParserNeeded) return error;
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
    const tree = this.requireParser().parse(script);
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
    const tree = this.requireParser().parse(script);
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
        checkRedirects(seg, ctx, findings, writes);
        credentials('a redirect', [], seg.redirects, ctx, findings);
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
    checkRedirects({ redirects }, ctx, findings, writes);
    credentials('a redirect', [], redirects, ctx, findings);
    let words = unwrap(input, findings, (w, what) => checkWrite(w, ctx, findings, writes, what));
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
    if (network) checkNetwork(ctx, findings, cmd);
    for (const r of writeRules) ruleWrites(r, words, ctx, findings, writes);
    // An approval or user rule whose prefix spells out a risky option covers it; the default
    // layer's broad rules (`rg`, `find`) never do.
    let covered = 0;
    for (const r of deciding)
      if (r.layer !== 'default' && r.prefix.length > covered) covered = r.prefix.length;
    hazards(cmd, words, covered, ctx, findings, writes);
    credentials(cmd, words, [], ctx, findings);
    out.push(makeSegment(input.map(shown), text, depth, findings, matched, writes));
  }
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

/** Loads and validates the layers, checks every rule's examples, and returns a ready engine. */
export async function createPolicyEngine(options: PolicyEngineOptions = {}): Promise<PolicyEngine> {
  if (options.parser !== 'on-demand') options.beforeParserLoad?.();
  const parser = options.parser === 'on-demand' ? undefined : await createBashParser();
  const layers: Layer[] = [];
  if (options.defaults !== false) layers.push(buildLayer('default', 'builtin', BUILTIN_POLICY_SPEC));
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
  const engine = new PolicyEngine(parser, layers, options.parseCacheSize ?? 256, options.beforeParserLoad);
  for (const layer of layers) {
    // The built-in layer's examples are constants checked by the test suite and by every engine
    // that has the parser; an on-demand engine (a one-shot CLI run) does not re-prove them.
    if (layer.kind === 'default' && !parser) continue;
    try {
      engine.checkExamples(layer, layer.kind === 'default');
    } catch (error) {
      if (!(error instanceof ParserNeeded)) throw error;
      await engine.loadParser();
      engine.checkExamples(layer);
    }
  }
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
