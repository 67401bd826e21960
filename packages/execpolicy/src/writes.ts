import { isWithin, isWritable } from '@codex/security-profile';
import { BUILTIN_NAMES } from './builtins.js';
import { type Finding, globDir, type ResolvedContext, resolvePaths } from './context.js';
import { analyseOptions, type OptionAnalysis, toolSpec } from './options.js';
import { shown } from './result.js';
import { type CompiledRule, operandsOf } from './rules.js';
import type { RawSegment, Word } from './shell.js';

/** Write targets (redirects, rule `writes` / `write_options`, option tables) and network effects. */

const SAFE_DEVICES = /^\/dev\/(null|zero|stdout|stderr|stdin|tty|fd\/[0-9]+|full|random|urandom)$/;
const NET_DEVICES = /^\/dev\/(tcp|udp)\//;
export const POSIX_SYSTEM = [
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
export const WINDOWS_SYSTEM = [
  'C:\\Windows',
  'C:\\Program Files',
  'C:\\Program Files (x86)',
  'C:\\ProgramData',
];

const CWD_WORD: Word = { value: '.', literal: true, tilde: false, source: '.' };

export function checkRedirects(
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
        checkNetwork(ctx, findings, `reads from ${target.value}`);
      continue;
    }
    checkWrite(target, ctx, findings, writes, `redirect ${r.op}`);
  }
}

export function checkNetwork(ctx: ResolvedContext, findings: Finding[], what: string): void {
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

export function checkWrite(
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
    checkNetwork(ctx, findings, `${what} to ${target.value}`);
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
  for (const path of paths) checkWritePath(path, ctx, findings, writes, what, opens);
}

function checkWritePath(
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

/** Option-table effects (exec, write, prompt) and builtins that assign variables. */
export function hazards(
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
    if (f.effect === 'write' && f.value) checkWrite(f.value, ctx, findings, writes, f.reason);
    else findings.push({ decision: 'prompt', reason: f.reason });
  }
  const ops = analysis.operands;
  const remote = cmd === 'scp' || cmd === 'rsync';
  const opens = cmd === 'uniq' || cmd === 'xxd';
  const opWrite = (i: number) => {
    const w = words[i];
    if (!w || (w.literal && w.value === '-')) return;
    if (remote && w.literal && /^[^/]*:/.test(w.value)) return;
    checkWrite(w, ctx, findings, writes, `${cmd} writes its operand ${shown(w)}`, opens);
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
      checkWrite(
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
    checkWrite(CWD_WORD, ctx, findings, writes, `${cmd} writes into the working directory`);
  }
}

export function ruleWrites(
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
    checkWrite(w, ctx, findings, writes, what, opens);
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
