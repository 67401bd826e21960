import {
  CodexError,
  isWithin,
  joinPath,
  normalizeAbsolutePath,
  type SandboxPolicy,
  type SecurityProfile,
} from '@codex/security-profile';
import type { MatchEnv } from './rules.js';
import type { Word } from './shell.js';
import type { Decision, FindingCause } from './types.js';

/** Evaluation context, resolved once per context, and path resolution against it (with `cd` tracking). */

export interface Finding {
  decision: Decision;
  reason: string;
  /** Default `other` (or `rule` for a rule's own decision). */
  cause?: FindingCause;
}

export interface ResolvedContext {
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

type BaseContext = Omit<ResolvedContext, 'matchEnv' | 'cwds'>;

export function withCwds(base: BaseContext, cwds: readonly string[] | undefined): ResolvedContext {
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

export const CD = new Set(['cd', 'pushd', 'popd']);

/** Tracks `cd` / `pushd` / `popd` so later relative paths resolve against every possible directory. */
export function afterCd(words: readonly Word[], ctx: ResolvedContext): ResolvedContext {
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

/** Absolute path(s) a literal word names: one per possible cwd for relative paths; undefined when unknown. */
export function resolvePaths(
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
export function globDir(path: string): string {
  const i = path.search(/[*?[]/);
  if (i === -1) return path;
  const cut = path.slice(0, i);
  const sep = Math.max(cut.lastIndexOf('/'), cut.lastIndexOf('\\'));
  return sep <= 0 ? path.slice(0, 1) : path.slice(0, sep);
}
