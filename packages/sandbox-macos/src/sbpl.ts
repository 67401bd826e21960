import { SbplParseError, SbplPathError } from './errors.js';

/** A node of an SBPL (TinyScheme) s-expression. */
export type SbplNode =
  | { readonly type: 'list'; readonly items: readonly SbplNode[]; readonly offset: number }
  | { readonly type: 'symbol'; readonly value: string; readonly offset: number }
  | { readonly type: 'string'; readonly value: string; readonly offset: number }
  | { readonly type: 'regex'; readonly value: string; readonly offset: number }
  | { readonly type: 'number'; readonly value: number; readonly offset: number };

/** Quotes `s` as an SBPL string literal. Control characters are refused (never silently dropped). */
export function sbplString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new SbplPathError(s);
  }
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function readString(text: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let value = '';
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') return { value, end: i + 1 };
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) break;
      value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  throw new SbplParseError('unterminated string', start);
}

/**
 * Parses SBPL text into its top-level forms. Understands lists, symbols, numbers, strings with
 * backslash escapes, `#"…"` regex literals, `;` line comments and `#| … |#` block comments.
 */
export function parseSbpl(text: string): SbplNode[] {
  const stack: { items: SbplNode[]; offset: number }[] = [{ items: [], offset: 0 }];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '#' && text[i + 1] === '|') {
      const end = text.indexOf('|#', i + 2);
      if (end < 0) throw new SbplParseError('unterminated block comment', i);
      i = end + 2;
    } else if (ch === '(') {
      stack.push({ items: [], offset: i });
      i++;
    } else if (ch === ')') {
      if (stack.length === 1) throw new SbplParseError('unexpected ")"', i);
      const done = stack.pop()!;
      stack[stack.length - 1]!.items.push({ type: 'list', items: done.items, offset: done.offset });
      i++;
    } else if (ch === '"') {
      const { value, end } = readString(text, i);
      stack[stack.length - 1]!.items.push({ type: 'string', value, offset: i });
      i = end;
    } else if (ch === '#' && text[i + 1] === '"') {
      const { value, end } = readString(text, i + 1);
      stack[stack.length - 1]!.items.push({ type: 'regex', value, offset: i });
      i = end;
    } else {
      const start = i;
      while (i < text.length && !/[\s()";]/.test(text[i]!)) i++;
      const atom = text.slice(start, i);
      if (atom.includes('"')) throw new SbplParseError(`bad token ${atom}`, start);
      const node: SbplNode = /^-?\d+$/.test(atom)
        ? { type: 'number', value: Number(atom), offset: start }
        : { type: 'symbol', value: atom, offset: start };
      stack[stack.length - 1]!.items.push(node);
    }
  }
  if (stack.length !== 1) throw new SbplParseError('unbalanced "("', stack[stack.length - 1]!.offset);
  return stack[0]!.items;
}

/** Renders a node back to SBPL (used in violation messages). */
export function renderSbpl(n: SbplNode): string {
  switch (n.type) {
    case 'list':
      return `(${n.items.map(renderSbpl).join(' ')})`;
    case 'string':
      return sbplString(n.value);
    case 'regex':
      return `#${sbplString(n.value)}`;
    default:
      return String(n.value);
  }
}
