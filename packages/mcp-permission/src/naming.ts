import { basename } from 'node:path';
import { ServerEnvError } from './errors.js';
import { defaultServerEnvironment } from './transport.js';

const RUNNERS = new Set([
  'node',
  'npx',
  'pnpx',
  'bunx',
  'uvx',
  'deno',
  'python',
  'python3',
  'bun',
  'pnpm',
  'npm',
]);

const GENERIC = new Set(['index', 'main', 'cli', 'server', 'dist', 'build', 'lib', 'src', 'bin', 'out']);

/** A name for the upstream server when `--name` is not given: the script or package, else the command. */
export function defaultServerName(command: readonly string[], url?: string): string {
  if (url !== undefined) return new URL(url).host;
  const [cmd = 'server', ...args] = command;
  const base = basename(cmd).replace(/\.(exe|cmd|bat)$/i, '');
  if (!RUNNERS.has(base)) return base;
  const target = args.find((a) => !a.startsWith('-') && a !== 'exec' && a !== 'run' && a !== 'dlx');
  if (target === undefined) return base;
  if (target.startsWith('@') || !/[\\/]/.test(target)) {
    // A package name: `@scope/server-x@1.2` → `server-x`.
    return target.replace(/^@[^/]+\//, '').replace(/@[^@]*$/, '') || base;
  }
  // A script path: skip generic file and folder names (`…/server-files/dist/index.js` → `server-files`).
  const parts = target.split(/[\\/]/).filter(Boolean);
  parts[parts.length - 1] = parts.at(-1)!.replace(/\.(m?js|cjs|ts|py)$/, '');
  while (parts.length > 1 && GENERIC.has(parts.at(-1)!)) parts.pop();
  return parts.at(-1) || base;
}

/**
 * The environment for an MCP server: {@link defaultServerEnvironment} of `env`, plus each `pass`
 * item: `NAME=VALUE` sets a variable, a bare `NAME` passes `env`'s value (when set). `flag` names
 * the option in the error (`--env`, `--mcp-env`); a malformed item throws ServerEnvError.
 */
export function serverEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  pass: readonly string[] = [],
  flag = '--env',
): Record<string, string> {
  const out = defaultServerEnvironment(env);
  for (const item of pass) {
    const eq = item.indexOf('=');
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(item)) {
      const value = env[item];
      if (value !== undefined) out[item] = value;
    } else throw new ServerEnvError(`${flag} expects NAME or NAME=VALUE, got "${item}"`);
  }
  return out;
}
