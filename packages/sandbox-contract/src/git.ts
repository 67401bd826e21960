/**
 * Git config files, read the way git reads them, for everything a sandbox must protect. Git runs
 * code named in its configuration (hooks, `core.hooksPath`, `core.fsmonitor`, filter and diff
 * drivers, `includeIf`d files that set those) outside any sandbox, so a backend has to know
 * exactly which files and directories git will consult. A hand-rolled line regex misses
 * comments after values, quotes, escapes, continuation lines, `[section "sub"]` headers, a
 * variable on the header line and `include.path`; this parser follows git's grammar instead.
 * No `node:` imports: file access is passed in.
 */
import { CodexError } from '@codex/security-profile';
import type { SandboxContractErrorCode } from './errors.js';

export interface GitConfigEntry {
  /** Lower-cased section name (`core`, `include`, `includeif`, `submodule`…). */
  readonly section: string;
  /** Subsection as written (case-sensitive), or null. */
  readonly subsection: string | null;
  /** Lower-cased variable name. */
  readonly key: string;
  /** Value after unquoting and escapes; `null` for a bare `key` (boolean true). */
  readonly value: string | null;
}

/** Thrown for text git itself would refuse ("bad config line"). */
export class GitConfigSyntaxError extends CodexError<SandboxContractErrorCode> {
  readonly line: number;
  constructor(line: number) {
    super('GIT_CONFIG_SYNTAX', `bad git config line ${line}`);
    this.line = line;
  }
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';
const isKeyChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9-]/.test(c);

/** Parses a git config file into its entries, in order (later entries win, as in git). */
export function parseGitConfig(text: string): GitConfigEntry[] {
  const out: GitConfigEntry[] = [];
  let i = 0;
  let line = 1;
  let section: string | null = null;
  let subsection: string | null = null;
  const n = text.length;
  const skipToEol = () => {
    while (i < n && text[i] !== '\n') i++;
  };
  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (isSpace(c) || (i === 0 && text.startsWith('\ufeff'))) {
      i++;
      continue;
    }
    if (c === '#' || c === ';') {
      skipToEol();
      continue;
    }
    if (c === '[') {
      i++;
      let name = '';
      while (i < n && /[A-Za-z0-9.-]/.test(text[i] as string)) name += text[i++];
      subsection = null;
      if (isSpace(text[i])) {
        while (isSpace(text[i])) i++;
        if (text[i] !== '"') throw new GitConfigSyntaxError(line);
        i++;
        let sub = '';
        while (i < n && text[i] !== '"') {
          if (text[i] === '\n') throw new GitConfigSyntaxError(line);
          if (text[i] === '\\' && i + 1 < n) i++;
          sub += text[i++];
        }
        if (text[i] !== '"') throw new GitConfigSyntaxError(line);
        i++;
        subsection = sub;
      }
      if (text[i] !== ']' || name === '') throw new GitConfigSyntaxError(line);
      i++;
      const dot = subsection === null ? name.indexOf('.') : -1;
      if (dot > 0) {
        // Deprecated [section.sub] form: the subsection is lower-cased.
        subsection = name.slice(dot + 1).toLowerCase();
        name = name.slice(0, dot);
      }
      section = name.toLowerCase();
      continue;
    }
    if (!/[A-Za-z]/.test(c as string) || section === null) throw new GitConfigSyntaxError(line);
    let key = '';
    while (isKeyChar(text[i])) key += text[i++];
    while (isSpace(text[i])) i++;
    let value: string | null = null;
    if (text[i] === '=') {
      i++;
      value = '';
      let quoted = false;
      let pendingSpace = '';
      let started = false;
      while (i < n) {
        const ch = text[i] as string;
        if (ch === '\n') {
          if (quoted) throw new GitConfigSyntaxError(line);
          break;
        }
        if (!quoted && (ch === '#' || ch === ';')) {
          skipToEol();
          break;
        }
        if (!quoted && isSpace(ch)) {
          if (started) pendingSpace += ch;
          i++;
          continue;
        }
        if (pendingSpace) {
          value += pendingSpace;
          pendingSpace = '';
        }
        if (ch === '\\') {
          const next = text[i + 1];
          if (next === '\n') {
            i += 2;
            line++;
            continue;
          }
          if (next === '\r' && text[i + 2] === '\n') {
            i += 3;
            line++;
            continue;
          }
          const map: Record<string, string> = { n: '\n', t: '\t', b: '\b', '\\': '\\', '"': '"' };
          if (next === undefined || !(next in map)) throw new GitConfigSyntaxError(line);
          value += map[next];
          started = true;
          i += 2;
          continue;
        }
        if (ch === '"') {
          quoted = !quoted;
          started = true;
          i++;
          continue;
        }
        value += ch;
        started = true;
        i++;
      }
      if (quoted) throw new GitConfigSyntaxError(line);
    } else if (text[i] === '#' || text[i] === ';') {
      skipToEol();
    } else if (i < n && text[i] !== '\n') {
      throw new GitConfigSyntaxError(line);
    }
    out.push({ section, subsection, key: key.toLowerCase(), value });
  }
  return out;
}

/** The last value of `section[.subsection].key` (git's "last one wins"), or undefined. */
export function gitConfigValue(entries: readonly GitConfigEntry[], name: string): string | null | undefined {
  const first = name.indexOf('.');
  const last = name.lastIndexOf('.');
  const section = name.slice(0, first).toLowerCase();
  const sub = first === last ? null : name.slice(first + 1, last);
  const key = name.slice(last + 1).toLowerCase();
  let found: string | null | undefined;
  for (const e of entries)
    if (e.section === section && e.subsection === sub && e.key === key) found = e.value;
  return found;
}

/**
 * `core.hooksPath` from the text of one git config file, or null (kept for callers that only
 * read one file; {@link readGitConfig} also follows includes).
 */
export function hooksPathFromGitConfig(text: string): string | null {
  try {
    return gitConfigValue(parseGitConfig(text), 'core.hookspath') ?? null;
  } catch {
    return null;
  }
}

/** Removes `.` and `..` segments of an absolute POSIX path. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

export interface GitConfigFile {
  readonly path: string;
  readonly entries: readonly GitConfigEntry[];
}

/**
 * Reads a config file and, recursively, every file it includes (`include.path` and every
 * `includeIf.<cond>.path`, conditions taken as true: for protection, a file git *might* read is
 * protected). Relative include paths resolve against the including file's directory, `~/`
 * against `home`. Missing files are skipped; unparsable ones are returned with no entries.
 */
export function readGitConfig(
  path: string,
  io: { read(path: string): string | null; home?: string },
  depth = 0,
): GitConfigFile[] {
  const text = io.read(path);
  if (text === null || depth > 10) return [];
  let entries: GitConfigEntry[] = [];
  try {
    entries = parseGitConfig(text);
  } catch {
    /* git would refuse it too; keep the file itself protected */
  }
  const out: GitConfigFile[] = [{ path, entries }];
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  for (const e of entries) {
    if (e.key !== 'path' || e.value === null) continue;
    if (!(e.section === 'include' && e.subsection === null) && e.section !== 'includeif') continue;
    let p = e.value;
    if (p.startsWith('~/') && io.home) p = `${io.home}/${p.slice(2)}`;
    if (!p.startsWith('/')) p = `${dir}/${p}`;
    out.push(...readGitConfig(normalize(p), io, depth + 1));
  }
  return out;
}
