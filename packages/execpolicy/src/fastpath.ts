import type { RawSegment, Redirect, Word } from './shell.js';

/**
 * A conservative reader for the plainest scripts agents send (`git status && ls -la src | wc -l;
 * cat x > out.txt; echo $(date)`): bare words, single quotes, double quotes without expansions,
 * `$(…)` of plain commands as a whole word, `&&` `||` `;` `|` and newlines between commands, and
 * `>` `>>` `<` `N>` `N>&M` redirects after the words. It yields exactly the segments the
 * tree-sitter walk yields (a property test compares both) and returns undefined for anything else
 * (any other character, keyword, assignment, glob, tilde, escape, comment), which then goes to
 * tree-sitter. It exists for throughput: tree-sitter's wasm parse dominates evaluation time.
 */
/** Characters of a bare word (a lookup table: this loop is the hot path). */
const BARE = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:,+%@^=-')
  BARE[c.charCodeAt(0)] = 1;
const KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'for',
  'while',
  'until',
  'do',
  'done',
  'case',
  'esac',
  'in',
  'function',
  'select',
  'time',
  'coproc',
  'declare',
  'typeset',
  'export',
  'local',
  'readonly',
  'unset',
  'let',
]);

class Bail extends Error {}

interface State {
  readonly src: string;
  i: number;
  readonly out: RawSegment[];
}

function skipBlanks(s: State): void {
  while (s.i < s.src.length && (s.src[s.i] === ' ' || s.src[s.i] === '\t')) s.i++;
}

/** One word: bare characters, '…' and "…" (no specials) concatenated; `$(…)` only as a whole word. */
function word(s: State): Word | undefined {
  const src = s.src;
  const start = s.i;
  if (src.startsWith('$(', start)) {
    if (src[start + 2] === '(') throw new Bail();
    s.i += 2;
    const inner = list(s, ')');
    if (src[s.i] !== ')') throw new Bail();
    s.i++;
    const next = src[s.i];
    if (
      next !== undefined &&
      next !== ' ' &&
      next !== '\t' &&
      next !== '\n' &&
      next !== ';' &&
      next !== '&' &&
      next !== '|' &&
      next !== ')'
    )
      throw new Bail();
    if (inner === 0) throw new Bail();
    const source = src.slice(start, s.i);
    return { value: source, literal: false, tilde: false, source };
  }
  let value = '';
  while (s.i < src.length) {
    const code = src.charCodeAt(s.i);
    if (code < 128 && BARE[code] === 1) {
      const from = s.i;
      while (s.i < src.length && src.charCodeAt(s.i) < 128 && BARE[src.charCodeAt(s.i)] === 1) s.i++;
      value += src.slice(from, s.i);
      continue;
    }
    const c = src[s.i]!;
    if (c === "'") {
      const end = src.indexOf("'", s.i + 1);
      if (end === -1) throw new Bail();
      value += src.slice(s.i + 1, end);
      s.i = end + 1;
    } else if (c === '"') {
      let j = s.i + 1;
      while (j < src.length && src[j] !== '"') {
        const d = src[j]!;
        if (d === '$' || d === '`' || d === '\\' || d === '!') throw new Bail();
        j++;
      }
      if (j >= src.length) throw new Bail();
      value += src.slice(s.i + 1, j);
      s.i = j + 1;
    } else break;
  }
  if (s.i === start) return undefined;
  const source = src.slice(start, s.i);
  // tree-sitter reads a leading `-` word differently only for `--`; numbers and words agree.
  return { value, literal: true, tilde: false, source };
}

/** One simple command with trailing redirects. Pushes its segment (after any `$(…)` inside it). */
function command(s: State): { start: number; wordsEnd: number; end: number } {
  const src = s.src;
  skipBlanks(s);
  const start = s.i;
  const words: Word[] = [];
  const redirects: Redirect[] = [];
  let end = s.i;
  let wordsEnd = s.i;
  for (;;) {
    skipBlanks(s);
    const c = src[s.i];
    if (c === undefined || c === '\n' || c === ';' || c === '&' || c === '|' || c === ')') break;
    const code = src.charCodeAt(s.i);
    const redirect =
      c === '>' || c === '<' || (code >= 48 && code <= 57 && (src[s.i + 1] === '>' || src[s.i + 1] === '<'))
        ? /^([0-9]?)(>>|>&|>|<)/.exec(src.slice(s.i, s.i + 3))
        : null;
    if (redirect) {
      if (words.length === 0) throw new Bail();
      const fd = redirect[1] || undefined;
      let op = redirect[2]!;
      s.i += redirect[0].length;
      if (op === '>' && src[s.i] === '|') throw new Bail();
      skipBlanks(s);
      if (op === '>&') {
        const m = /^[0-9]+/.exec(src.slice(s.i));
        if (!m || fd === undefined) throw new Bail();
        s.i += m[0].length;
        redirects.push({ op, fd, target: { value: m[0], literal: true, tilde: false, source: m[0] } });
      } else {
        if (src[s.i] === '$' || src[s.i] === '(') throw new Bail();
        const target = word(s);
        if (!target) throw new Bail();
        if (fd !== undefined && op === '<') op = '<';
        redirects.push({ op, fd, target });
      }
      end = s.i;
      continue;
    }
    if (redirects.length > 0) throw new Bail(); // a word after a redirect
    if (c === '$' && src[s.i + 1] !== '(') throw new Bail();
    const w = word(s);
    if (!w || w.source === '-') throw new Bail(); // tree-sitter drops a lone `-` argument
    if (words.length === 0) {
      if (!w.literal || KEYWORDS.has(w.value) || !/^([A-Za-z_./][A-Za-z0-9_./+-]*|:)$/.test(w.source))
        throw new Bail();
    }
    if (/^[0-9]+$/.test(w.source) && (src[s.i] === '>' || src[s.i] === '<')) throw new Bail(); // 22>x
    words.push(w);
    end = s.i;
    wordsEnd = s.i;
  }
  if (words.length === 0) throw new Bail();
  s.out.push({
    kind: 'command',
    text: src.slice(start, end),
    words,
    assignments: [],
    redirects,
    problems: [],
  });
  return { start, wordsEnd, end };
}

/** Commands separated by `&&`, `||`, `;`, `|`, newlines; stops before `close`. Returns the count. */
function list(s: State, close?: string): number {
  const src = s.src;
  let count = 0;
  // The current chain (commands joined by `|`, or by `&&` / `||`) and its operator kind.
  let chainStart = -1;
  let chainKind: '' | '|' | '&&' = '';
  let mixed = false;
  for (;;) {
    while (s.i < src.length && /[ \t\n]/.test(src[s.i]!)) {
      if (src[s.i] === '\n' && count === 0 && close) throw new Bail();
      s.i++;
    }
    const first = chainKind === '';
    const at = command(s);
    if (first) chainStart = at.start;
    count++;
    const seg = s.out[s.out.length - 1]!;
    skipBlanks(s);
    const c = src[s.i];
    const both = src.slice(s.i, s.i + 2);
    const op = both === '&&' || both === '||' ? '&&' : c === '|' ? '|' : '';
    if (!first && seg.redirects.length > 0) {
      // tree-sitter-bash attaches a redirect after the last command of `a | b > x` or
      // `a && b > x` to the whole chain (bash: to b only). Mirror its segments exactly: the
      // command without the redirect, then a construct spanning the chain with the redirect.
      if (op !== '' || mixed) throw new Bail();
      s.out[s.out.length - 1] = { ...seg, text: src.slice(at.start, at.wordsEnd), redirects: [] };
      s.out.push({
        kind: 'construct',
        text: src.slice(chainStart, at.end),
        words: [],
        assignments: [],
        redirects: seg.redirects,
        problems: [],
      });
    }
    if (op !== '') {
      if (chainKind !== '' && chainKind !== op) mixed = true; // a && b | c
      chainKind = op;
    } else {
      chainKind = '';
      mixed = false;
    }
    if (c === undefined) return count;
    if (close !== undefined && c === close) return count;
    if (c === ')') throw new Bail();
    if (op === '&&') s.i += 2;
    else if (c === '|') {
      if (src[s.i + 1] === '&') throw new Bail();
      s.i++;
    } else if (c === ';') {
      if (src[s.i + 1] === ';' || src[s.i + 1] === '&') throw new Bail();
      s.i++;
    } else if (c === '\n') s.i++;
    else throw new Bail();
    skipBlanks(s);
    // After `&&` / `||` / `|` a newline may continue the list; after `;` or a newline, the next
    // command must follow (a trailing separator goes to tree-sitter).
    while (s.i < src.length && src[s.i] === '\n') s.i++;
    skipBlanks(s);
    if (s.i >= src.length || src[s.i] === ';' || src[s.i] === '&' || src[s.i] === '|' || src[s.i] === ')')
      throw new Bail();
  }
}

/** The segments of a plain script, or undefined when it needs the real parser. */
export function fastSegments(script: string): RawSegment[] | undefined {
  if (script.length === 0 || script.length > 4096) return undefined;
  const s: State = { src: script, i: 0, out: [] };
  try {
    list(s);
    if (s.i !== script.length) return undefined;
    return s.out;
  } catch (error) {
    if (error instanceof Bail) return undefined;
    throw error;
  }
}
