import { isWithin } from '@codex/security-profile';
import { type Finding, globDir, type ResolvedContext, resolvePaths } from './context.js';
import type { RawSegment, Word } from './shell.js';

/** Credential and secret locations: reads of them (or recursive reads and globs that reach them) prompt. */

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

const cwdKinds = new WeakMap<ResolvedContext, { secret: boolean; broad: boolean }>();

/** Reads of well-known credential files (and recursive reads or globs that reach them) prompt. */
export function credentials(
  cmd: string,
  words: readonly Word[],
  redirects: RawSegment['redirects'],
  ctx: ResolvedContext,
  findings: Finding[],
): void {
  let where = cwdKinds.get(ctx);
  if (where === undefined) {
    where = {
      secret: ctx.cwds === undefined ? false : ctx.cwds.some((c) => isCredentialPath(c, ctx.home)),
      // Relative operands reach above the home directory only from a working directory that does.
      broad: ctx.cwds === undefined || ctx.cwds.some((c) => homeOrAbove(c, ctx)),
    };
    cwdKinds.set(ctx, where);
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
      const broad = paths?.some((p) => homeOrAbove(globDir(p), ctx));
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

function homeOrAbove(dir: string, ctx: ResolvedContext): boolean {
  if (dir === '/' || /^\/(home|Users|root)(\/[^/]+)?\/?$/.test(dir)) return true;
  return ctx.home !== undefined && isWithin(ctx.home, dir);
}
