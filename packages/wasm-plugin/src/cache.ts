/**
 * The on-disk cache of built plugins (JS glue + instrumented, capped core modules).
 *
 * - **Key**: SHA-256 over everything that shaped the output: the plugin's bytes, the pipeline's
 *   own code (every file of `pipeline`'s local module graph, so the fuel and memory
 *   instrumenter too), the jco-transpile version, the memory and table caps and the entry
 *   format. A change to any of them (e.g. the fuel charge) makes old entries unreachable; fuel, time and
 *   output limits are applied at run time and do not shape the output.
 * - **Digest**: every entry lists each file's SHA-256 and its own key; on load the bytes are
 *   hashed and compared, and only the verified bytes are used (the glue travels to the worker as
 *   text, never re-read from disk). A corrupted or swapped entry is rejected, deleted and rebuilt.
 * - **Trust**: the cache holds JavaScript the worker executes. A cache directory, entry or file
 *   owned by another user, writable by group or others, or a symbolic link is refused
 *   (`CACHE_REFUSED`) and nothing in it is used.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheRefusedError } from './errors.js';

/** Layout version of an entry directory. */
const ENTRY_FORMAT = 2;
const ENTRY_FILE = 'entry.json';
const GLUE_FILE = 'glue.js';

/**
 * `$XDG_CACHE_HOME/codex/wasm-plugin` (default `~/.cache/codex/wasm-plugin`). Not a shared temp
 * directory: the cache holds JavaScript that the worker executes, so it must be private.
 */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'codex', 'wasm-plugin');
}

function checkOwnership(path: string, st: Stats, what: string): void {
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new CacheRefusedError(path, `${what} is owned by uid ${st.uid}, not by this user (uid ${uid})`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new CacheRefusedError(
      path,
      `${what} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`,
    );
  }
}

/**
 * Creates the cache directory (0700) and refuses one that another user owns or that others can
 * write to: anyone who can write there could plant JavaScript the worker would execute.
 */
export function ensurePrivateCacheDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkOwnership(dir, statSync(dir), 'the directory');
}

export interface PipelineFingerprint {
  /** SHA-256 over the pipeline module and every local module it imports. */
  readonly code: string;
  /** Files hashed, relative to the pipeline module's directory. */
  readonly files: readonly string[];
  readonly jco: string;
}

let fingerprint: PipelineFingerprint | undefined;

/** Hash of the code that builds plugins; computed once per process (reads a few small files). */
export function pipelineFingerprint(): PipelineFingerprint {
  if (fingerprint) return fingerprint;
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = resolveLocal(join(here, 'pipeline.js'));
  if (!entry) throw new Error(`cannot find the pipeline module next to ${here}`);
  const root = dirname(entry);
  const files = moduleGraph(entry).sort();
  const code = createHash('sha256');
  for (const f of files) {
    const data = readFileSync(f);
    code.update(`${relative(root, f)}\0${data.length}\0`).update(data);
  }
  fingerprint = {
    code: code.digest('hex'),
    files: files.map((f) => relative(root, f)),
    jco: packageVersion(here, '@bytecodealliance/jco-transpile'),
  };
  return fingerprint;
}

/** `x.js` as built (dist/) or as source (src/, where the file is `x.ts`). */
function resolveLocal(path: string): string | undefined {
  if (existsSync(path)) return path;
  const ts = path.replace(/\.js$/, '.ts');
  return existsSync(ts) ? ts : undefined;
}

const LOCAL_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.\.?\/[^"']+)["']/g;

/** A module and every module it imports by relative specifier (static or dynamic), transitively. */
function moduleGraph(entry: string): string[] {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(LOCAL_IMPORT)) {
      const next = resolveLocal(join(dirname(file), m[1]!));
      if (next) todo.push(next);
    }
  }
  return [...seen];
}

/** Version of an installed package, found the way Node resolves it (up the node_modules chain). */
function packageVersion(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file))
      return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version);
    if (dirname(dir) === dir) return 'not-found';
  }
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface CacheKeyInputs {
  readonly format: number;
  /** SHA-256 of the plugin's bytes. */
  readonly plugin: string;
  readonly pipeline: PipelineFingerprint;
  readonly memoryPages: number;
  readonly tableEntries: number;
}

export function cacheKey(
  plugin: string,
  memoryPages: number,
  tableEntries: number,
): {
  key: string;
  inputs: CacheKeyInputs;
} {
  const inputs: CacheKeyInputs = {
    format: ENTRY_FORMAT,
    plugin,
    pipeline: pipelineFingerprint(),
    memoryPages,
    tableEntries,
  };
  return { key: sha256(JSON.stringify(inputs)), inputs };
}

/** What `entry.json` holds. */
interface EntryMeta {
  readonly format: typeof ENTRY_FORMAT;
  readonly key: string;
  readonly inputs: unknown;
  readonly glue: { readonly file: typeof GLUE_FILE; readonly sha256: string } | null;
  readonly core: readonly { readonly name: string; readonly sha256: string }[];
  readonly imports: readonly string[];
  readonly exports: readonly string[];
}

const DIGEST = /^[0-9a-f]{64}$/;
const CORE_FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.wasm$/;

/**
 * Checks parsed `entry.json` exactly (no unknown keys, digests and file names by pattern) and
 * returns the first problem as `path: message`, or undefined. Hand-written rather than a zod
 * schema: it runs on every warm load, where building and first running a schema cost more
 * than the rest of the cache check.
 */
function entryProblem(value: unknown): string | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const exact = (v: Record<string, unknown>, keys: readonly string[], at: string): string | undefined => {
    const extra = Object.keys(v).find((k) => !keys.includes(k));
    if (extra !== undefined) return `${at}: unrecognized key "${extra}"`;
    const missing = keys.find((k) => !(k in v));
    return missing === undefined ? undefined : `${at === '(root)' ? '' : `${at}.`}${missing}: missing`;
  };
  const digest = (v: unknown, at: string) =>
    typeof v === 'string' && DIGEST.test(v) ? undefined : `${at}: not a SHA-256 hex digest`;
  const strings = (v: unknown, at: string) => {
    if (!Array.isArray(v)) return `${at}: not an array`;
    const i = v.findIndex((x) => typeof x !== 'string');
    return i === -1 ? undefined : `${at}.${i}: not a string`;
  };
  if (!isObject(value)) return '(root): not an object';
  const keys = ['format', 'key', 'inputs', 'glue', 'core', 'imports', 'exports'];
  const problem = exact(value, keys, '(root)');
  if (problem) return problem;
  if (value.format !== ENTRY_FORMAT) return `format: expected ${ENTRY_FORMAT}`;
  const keyProblem = digest(value.key, 'key');
  if (keyProblem) return keyProblem;
  if (value.glue !== null) {
    if (!isObject(value.glue)) return 'glue: not an object or null';
    const glueProblem =
      exact(value.glue, ['file', 'sha256'], 'glue') ?? digest(value.glue.sha256, 'glue.sha256');
    if (glueProblem) return glueProblem;
    if (value.glue.file !== GLUE_FILE) return `glue.file: expected "${GLUE_FILE}"`;
  }
  if (!Array.isArray(value.core)) return 'core: not an array';
  for (const [i, c] of value.core.entries()) {
    if (!isObject(c)) return `core.${i}: not an object`;
    const coreProblem = exact(c, ['name', 'sha256'], `core.${i}`) ?? digest(c.sha256, `core.${i}.sha256`);
    if (coreProblem) return coreProblem;
    if (typeof c.name !== 'string' || !CORE_FILE_NAME.test(c.name)) {
      return `core.${i}.name: not a plain *.wasm file name`;
    }
  }
  return strings(value.imports, 'imports') ?? strings(value.exports, 'exports');
}

/** A verified entry: the bytes here are the ones whose digests matched. */
export interface CacheEntry {
  /** jco glue (components) or undefined (preview1 modules run directly). */
  readonly glue: string | undefined;
  readonly core: readonly (readonly [name: string, bytes: Uint8Array])[];
  readonly imports: readonly string[];
  readonly exports: readonly string[];
}

export type CacheRead =
  | { readonly kind: 'hit'; readonly entry: CacheEntry }
  | { readonly kind: 'absent' }
  | { readonly kind: 'rejected'; readonly reason: string };

/** Reads and verifies one entry. Throws `CacheRefusedError` for an untrustworthy entry. */
export function readEntry(cacheDir: string, key: string): CacheRead {
  const dir = join(cacheDir, key);
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return { kind: 'absent' };
  }
  if (!st.isDirectory()) throw new CacheRefusedError(dir, 'the entry is not a directory (a symbolic link?)');
  checkOwnership(dir, st, 'the entry');
  const read = (name: string): Buffer | undefined => {
    const path = join(dir, name);
    let fst: Stats;
    try {
      fst = lstatSync(path);
    } catch {
      return undefined;
    }
    if (!fst.isFile()) throw new CacheRefusedError(path, 'not a regular file (a symbolic link?)');
    checkOwnership(path, fst, 'the file');
    return readFileSync(path);
  };
  const raw = read(ENTRY_FILE);
  if (!raw) return { kind: 'rejected', reason: `${ENTRY_FILE} is missing` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return { kind: 'rejected', reason: `${ENTRY_FILE} is not JSON: ${(error as Error).message}` };
  }
  const problem = entryProblem(parsed);
  if (problem !== undefined) return { kind: 'rejected', reason: `${ENTRY_FILE}: ${problem}` };
  const meta = parsed as EntryMeta;
  if (meta.key !== key) return { kind: 'rejected', reason: `it belongs to key ${meta.key} (swapped entry)` };
  const verify = (name: string, expected: string): Buffer | string => {
    const data = read(name);
    if (!data) return `${name} is missing`;
    const actual = sha256(data);
    return actual === expected ? data : `${name} has digest ${actual}, expected ${expected}`;
  };
  const glue = meta.glue ? verify(GLUE_FILE, meta.glue.sha256) : undefined;
  if (typeof glue === 'string') return { kind: 'rejected', reason: glue };
  const core: [string, Uint8Array][] = [];
  for (const c of meta.core) {
    const data = verify(c.name, c.sha256);
    if (typeof data === 'string') return { kind: 'rejected', reason: data };
    core.push([c.name, data]);
  }
  return {
    kind: 'hit',
    entry: { glue: glue?.toString('utf8'), core, imports: meta.imports, exports: meta.exports },
  };
}

/** Deletes an entry (after it was rejected). */
export function removeEntry(cacheDir: string, key: string): void {
  rmSync(join(cacheDir, key), { recursive: true, force: true });
}

/** Writes an entry atomically (staging directory + rename); a concurrent writer's entry wins. */
export function writeEntry(cacheDir: string, key: string, inputs: CacheKeyInputs, entry: CacheEntry): void {
  const staging = join(
    cacheDir,
    `.staging-${key.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  mkdirSync(staging, { mode: 0o700 });
  try {
    const write = (name: string, data: Uint8Array | string) =>
      writeFileSync(join(staging, name), data, { mode: 0o600, flag: 'wx' });
    if (entry.glue !== undefined) write(GLUE_FILE, entry.glue);
    for (const [name, data] of entry.core) write(name, data);
    const meta: EntryMeta = {
      format: ENTRY_FORMAT,
      key,
      inputs,
      glue: entry.glue === undefined ? null : { file: GLUE_FILE, sha256: sha256(entry.glue) },
      core: entry.core.map(([name, data]) => ({ name, sha256: sha256(data) })),
      imports: [...entry.imports],
      exports: [...entry.exports],
    };
    write(ENTRY_FILE, `${JSON.stringify(meta, null, 2)}\n`);
    renameSync(staging, join(cacheDir, key));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process won the race: its entry is verified on the next load like any other.
    if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}

/** Lists cache entries (their keys). */
export function cacheEntries(cacheDir = defaultCacheDir()): string[] {
  return existsSync(cacheDir) ? readdirSync(cacheDir).filter((d) => /^[0-9a-f]{64}$/.test(d)) : [];
}
