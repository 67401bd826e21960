import { homedir, userInfo } from 'node:os';

/** Placeholders written in place of private data. Masking never rewrites a placeholder. */
export const HOME_PLACEHOLDER = '[HOME]';
export const USER_PLACEHOLDER = '[USER]';
export const REDACTED = '[REDACTED]';

export interface MaskOptions {
  /** Home directory (or several) to replace by `[HOME]`. Default: `os.homedir()`. */
  readonly home?: string | readonly string[];
  /** User name to replace by `[USER]`. Default: `os.userInfo().username`. */
  readonly user?: string;
}

/** A function that masks one string. Idempotent: `mask(mask(s)) === mask(s)`. */
export type Masker = (text: string) => string;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---- secrets -------------------------------------------------------------------------------

/** Cheap pre-test: a string that matches none of these needs no secret rule at all. */
const MAYBE_SECRET =
  /-----BEGIN|auth|cookie|:\/\/[^\s/@]*@|pass|pwd|token|secret|key|cred|gh[pousr]_|github_pat_|sk-|[rs]k_(?:live|test)_|A[KS]IA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|xox|AIza|npm_|eyJ|glpat-|mysql|mariadb|sshpass/i;

/** Known token shapes, redacted wherever they appear (one pass, one alternation). */
const TOKENS = new RegExp(
  [
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/,
    /\bgh[pousr]_[A-Za-z0-9]{20,}/, // GitHub classic tokens
    /\bgithub_pat_[A-Za-z0-9_]{20,}/, // GitHub fine-grained tokens
    /\bglpat-[A-Za-z0-9_-]{20,}/, // GitLab
    /\bsk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{16,}/, // OpenAI / Anthropic style
    /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/, // Stripe
    /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/, // AWS key ids
    /\bxox[abposr]-[A-Za-z0-9-]{10,}/, // Slack
    /\bAIza[0-9A-Za-z_-]{35}/, // Google API keys
    /\bnpm_[A-Za-z0-9]{36}\b/, // npm
    /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, // JWT
  ]
    .map((r) => r.source)
    .join('|'),
  'g',
);

/** `Authorization: Bearer x`, `Cookie: …`, `X-Api-Key: …` → `Authorization: [REDACTED]`. */
const HEADER_HINT = /authori|api-key|auth-token|cookie/i;
const HEADER =
  /\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|set-cookie|cookie)(\s*:\s*)(?:(?:bearer|basic|token|digest|bot|negotiate)\s+)?(?:\[REDACTED\]|"[^"]*"|'[^']*'|[^\s"',;]+)/gi;

/** `scheme://user:password@host` → `scheme://[REDACTED]@host`. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]*@/gi;

const SECRET_WORD =
  'pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|client[-_]?secret|credentials?|auth(?!or)';
const SECRET_NAME = new RegExp(SECRET_WORD, 'i');

/**
 * `--password=x`, `--token x`, `--api-key "x"`: flags whose name looks secret have their value
 * redacted (a following flag is never taken as the value). Linear: names are matched generally
 * and judged in the replacer.
 */
const FLAG =
  /(?<=^|[\s"'=])(--[A-Za-z0-9][A-Za-z0-9_-]*)(=|\s+)(?!-)(\[REDACTED\]|"[^"]*"|'[^']*'|[^\s"']+)/g;

/** `NAME=value` where NAME looks secret (`GITHUB_TOKEN=…`, `db.password=…`). */
const KEY_VALUE = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)=(\[REDACTED\]|"[^"]*"|'[^']*'|[^\s"'&;,]+)/g;

/** `"password": "x"` inside JSON-ish text. */
const JSON_SECRET = /("([A-Za-z0-9_.-]+)"\s*:\s*)"[^"]*"/g;

/** mysql-family `-psecret` (attached value) and `sshpass -p secret`. */
const MYSQL_CMD = /\b(?:mysql\w*|mariadb[\w-]*)\b/i;
const MYSQL_P = /(^|\s)-p(?!\s|$|\[REDACTED\])(\S+)/g;
const SSHPASS_P = /(\bsshpass\s+(?:-\w+\s+)*-p)(\s*)(?!-)(\[REDACTED\]|\S+)/g;

/** Redacts secrets in `text`. Idempotent. */
export function redactSecrets(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text.replace(TOKENS, REDACTED);
  if (HEADER_HINT.test(out))
    out = out.replace(HEADER, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
  if (out.includes('://')) out = out.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  if (out.includes('":')) {
    out = out.replace(JSON_SECRET, (m, head: string, name: string) =>
      SECRET_NAME.test(name) ? `${head}"${REDACTED}"` : m,
    );
  }
  if (out.includes('-')) {
    out = out.replace(FLAG, (m, name: string, sep: string) =>
      SECRET_NAME.test(name) ? `${name}${sep}${REDACTED}` : m,
    );
  }
  if (out.includes('=')) {
    out = out.replace(KEY_VALUE, (m, name: string) => (SECRET_NAME.test(name) ? `${name}=${REDACTED}` : m));
  }
  if (out.includes('-p')) {
    if (MYSQL_CMD.test(out)) out = out.replace(MYSQL_P, `$1-p${REDACTED}`);
    if (out.includes('sshpass')) out = out.replace(SSHPASS_P, `$1$2${REDACTED}`);
  }
  return out;
}

/** True when a `details` key names a secret, so its whole value is redacted. */
export function isSecretKey(key: string): boolean {
  return SECRET_NAME.test(key);
}

// ---- home directory and user name ----------------------------------------------------------

const PATH_END = `(?=[\\\\/\\s"'\`:;,)\\]}>|]|$)`;
// `]` too: a path right after a placeholder (`[HOME]/home/x`) was not a path start before masking.
const NOT_PATH_BEFORE = `(?<![A-Za-z0-9_.~\\]-])`;
/** Names under /home, /Users or C:\Users that are not people. */
const SHARED_DIRS = new Set(['public', 'default', 'default user', 'all users', 'shared', 'guest']);
/** Accounts too common as ordinary words to mask outside of paths. */
const COMMON_NAMES = new Set(['root', 'admin', 'user', 'users', 'home', 'test', 'runner', 'node', 'app']);

function homePattern(home: string): RegExp | undefined {
  const trimmed = home.replace(/[\\/]+$/, '');
  if (trimmed.length < 2) return undefined;
  const windows = /^[A-Za-z]:[\\/]/.test(trimmed) || trimmed.includes('\\');
  const parts = trimmed.split(/[\\/]+/);
  // A leading separator matches exactly one slash, so `file:///home/x` keeps `file://`.
  const lead = parts[0] === '' ? '[\\\\/]' : '';
  const body = lead + (parts[0] === '' ? parts.slice(1) : parts).map(escapeRe).join('[\\\\/]+');
  return new RegExp(`${NOT_PATH_BEFORE}${body}${PATH_END}`, windows ? 'gi' : 'g');
}

/** Any user's home: `/home/NAME`, `/Users/NAME`, `X:\Users\NAME` (either slash). */
const ANY_HOME =
  /(?<![A-Za-z0-9_.~\]-])(\/home\/|\/Users\/|[A-Za-z]:[\\/]+Users[\\/]+)([^\\/\s"'`:;,*?<>|[\]]+)(?=[\\/\s"'`:;,)\]}>|]|$)/g;

/**
 * Builds a masker: secrets become `[REDACTED]`, the home directory `[HOME]`, the user's name
 * `[USER]` (other users' home directories become `/home/[USER]`), on Unix and Windows paths.
 */
export function createMasker(options: MaskOptions = {}): Masker {
  const homes = (
    options.home === undefined
      ? [safeHome()]
      : typeof options.home === 'string'
        ? [options.home]
        : options.home
  ).filter((h): h is string => typeof h === 'string' && h.length > 0);
  const user = options.user ?? safeUser();
  const homeRes = homes.map(homePattern).filter((r): r is RegExp => r !== undefined);
  const userLower = user.toLowerCase();
  const userRe =
    user.length >= 3 && !COMMON_NAMES.has(userLower)
      ? new RegExp(`(?<![A-Za-z0-9_\\[])${escapeRe(user)}(?![A-Za-z0-9_\\]])`, 'gi')
      : undefined;
  // Quick pre-test for the path rules: most targets mention neither the home nor the user.
  const needles = [
    ...homes.map(
      (h) =>
        h
          .replace(/[\\/]+$/, '')
          .split(/[\\/]/)
          .pop() ?? '',
    ),
    user,
  ]
    .filter((n) => n.length > 0)
    .map((n) => escapeRe(n.toLowerCase()));
  const maybePath = new RegExp(`/home/|/users/|:[\\\\/]+users[\\\\/]|${needles.join('|') || '$^'}`, 'i');

  // Targets and reasons repeat a lot ("profile offline forbids network"); masking is pure, so a
  // small cache (cleared when full) saves the regex passes for repeats.
  const cache = new Map<string, string>();
  const CACHE_MAX = 2048;
  const CACHEABLE = 512;
  // One pass can create a shape another rule matches (a home path becoming `[HOME]` inside a URL
  // turns it into URL credentials), so repeat until nothing changes: that makes the masker
  // idempotent by construction. Every rule only shrinks text into placeholders, so it settles
  // quickly; the bound is a guard.
  const compute = (text: string): string => {
    let out = text;
    for (let i = 0; i < 8; i++) {
      const next = pass(out);
      if (next === out) break;
      out = next;
    }
    return out;
  };
  const pass = (text: string): string => {
    let out = redactSecrets(text);
    if (!maybePath.test(out)) return out;
    for (const re of homeRes) out = out.replace(re, HOME_PLACEHOLDER);
    out = out.replace(ANY_HOME, (match, prefix: string, name: string) => {
      const lower = name.toLowerCase();
      if (SHARED_DIRS.has(lower)) return match;
      if (user.length > 0 && lower === userLower) return HOME_PLACEHOLDER;
      return `${prefix}${USER_PLACEHOLDER}`;
    });
    if (userRe) out = out.replace(userRe, USER_PLACEHOLDER);
    return out;
  };
  return (text: string): string => {
    if (text.length > CACHEABLE) return compute(text);
    let out = cache.get(text);
    if (out === undefined) {
      out = compute(text);
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(text, out);
    }
    return out;
  };
}

function safeHome(): string {
  try {
    return homedir();
  } catch {
    return '';
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}

let defaultMasker: Masker | undefined;

/** Masks `text` with the current user's home directory and name. */
export function maskText(text: string): string {
  defaultMasker ??= createMasker();
  return defaultMasker(text);
}
