// Sandbox secrets and environment: pure data shared by every backend (issue 16). Kept in its own
// module so that other additions to the shared vocabulary merge without conflicts.

/**
 * Paths no sandboxed command may read, in every profile but `trusted`. `~/` means the home
 * directory of the user running codex; backends expand it. Directories are masked whole.
 */
export const DEFAULT_DENY_READ: readonly string[] = [
  '~/.ssh',
  '~/.aws',
  '~/.gnupg',
  '~/.azure',
  '~/.config/gcloud',
  '~/.kube',
  '~/.docker/config.json',
  '~/.netrc',
  '~/.npmrc',
  '~/.pypirc',
  '~/.git-credentials',
  '~/.config/gh',
  '~/.password-store',
  '~/.vault-token',
  // browser profiles
  '~/.mozilla',
  '~/.config/google-chrome',
  '~/.config/chromium',
  '~/.config/BraveSoftware',
  '~/.config/microsoft-edge',
  '~/snap/firefox',
  '~/snap/chromium',
  // keyrings and wallets
  '~/.local/share/keyrings',
  '~/.local/share/kwalletd',
  '~/.pki',
];

/**
 * Environment variables passed into a sandbox by default (exact names; `PREFIX*` matches a
 * prefix). Everything else is dropped unless allowed in config (`sandbox.env_allow`). Values of
 * these that carry a URL with a password are dropped too.
 */
export const DEFAULT_ENV_ALLOW: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'COLORTERM',
  'NO_COLOR',
  'FORCE_COLOR',
  'LANG',
  'LANGUAGE',
  'LC_*',
  'TZ',
  'TMPDIR',
  'PWD',
  'HOSTNAME',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'CI',
  'COLUMNS',
  'LINES',
];

/** Expands `~` / `~/x` against `home`; other entries are returned unchanged. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
  return path;
}

/**
 * The deny-read list for a profile: the built-in list plus `deny`, minus every entry of `allow`
 * (compared after expansion). Empty for `trusted`. With `home`, `~` entries are expanded.
 */
export function resolveDenyRead(options: {
  readonly trusted?: boolean;
  readonly deny?: readonly string[];
  readonly allow?: readonly string[];
  readonly home?: string;
}): string[] {
  if (options.trusted) return [];
  const ex = (p: string) => (options.home ? expandHome(p, options.home) : p);
  const allow = new Set((options.allow ?? []).map(ex));
  const out: string[] = [];
  for (const p of [...DEFAULT_DENY_READ, ...(options.deny ?? [])].map(ex)) {
    if (!allow.has(p) && !out.includes(p)) out.push(p);
  }
  return out;
}
