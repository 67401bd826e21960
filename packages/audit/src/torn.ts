import { AUDIT_SCHEMA_VERSION } from './schema.js';

/** The keys of an entry line, in the order the logger writes them. */
const KEYS = [
  'v',
  'seq',
  'timestamp',
  'session_id',
  'task_id',
  'agent_type',
  'profile',
  'operation',
  'target',
  'decision',
  'reason',
  'details',
  'chain',
  'prev',
  'hash',
] as const;

/**
 * Is `text` (an unterminated last line) a prefix of the entry line the logger would have written
 * next, i.e. a write that a crash cut short? Only then is it a harmless "torn tail". It must
 * start with `{"v":1,"seq":<seq>,`, be a well-formed prefix of a JSON object whose keys come in
 * the logger's order, contain no invalid UTF-8 or raw control characters, and, once it reaches
 * `prev`, link to `prev`. Plain text, random bytes, another seq or a broken link are not torn:
 * they are tampering, and nobody may silently cut them off.
 */
export function isTornEntryPrefix(torn: string, seq: number, prev: string): boolean {
  // A cut inside a multi-byte character leaves an incomplete sequence at the very end, which
  // decodes as U+FFFD; anywhere else U+FFFD means bytes that are not UTF-8.
  const text = torn.replace(/\ufffd{1,3}$/, '');
  if (text.length === 0) return false;
  const head = `{"v":${AUDIT_SCHEMA_VERSION},"seq":${seq},"timestamp":"`;
  if (text.length <= head.length) return text.length > 0 && head.startsWith(text);
  if (!text.startsWith(head)) return false;
  if (/[\u0000-\u001f\ufffd]/.test(text)) return false;
  const keys = objectPrefixKeys(text);
  if (keys === undefined) return false;
  // Keys must follow the logger's order (details is optional).
  let k = 0;
  for (const key of keys.complete) {
    while (k < KEYS.length && KEYS[k] !== key) {
      if (KEYS[k] !== 'details') return false;
      k++;
    }
    if (k === KEYS.length) return false;
    k++;
  }
  if (keys.partial !== undefined && !KEYS.slice(k).some((key) => key.startsWith(keys.partial!))) return false;
  const p = text.indexOf(',"prev":"');
  if (p !== -1) {
    const got = text.slice(p + 9, p + 9 + 64);
    if (!prev.startsWith(got.replace(/".*$/, ''))) return false;
  }
  return true;
}

/**
 * Checks that `s` is a prefix of a JSON object and returns its top-level keys (those whose
 * value started, and a key still being written), or undefined if it cannot be one.
 */
function objectPrefixKeys(s: string): { complete: string[]; partial?: string } | undefined {
  const complete: string[] = [];
  // Expectations inside containers: 'key', 'colon', 'value', 'after' (comma or close).
  type State = 'key' | 'key-or-end' | 'colon' | 'value' | 'value-or-end' | 'after';
  const stack: ('{' | '[')[] = [];
  let state: State = 'value';
  let i = 0;
  const n = s.length;
  const readString = (): { value: string; closed: boolean } | undefined => {
    // s[i] === '"'
    let j = i + 1;
    let out = '';
    while (j < n) {
      const c = s[j]!;
      if (c === '"') {
        i = j + 1;
        return { value: out, closed: true };
      }
      if (c === '\\') {
        if (j + 1 >= n) break;
        const e = s[j + 1]!;
        if (e === 'u') {
          const hex = s.slice(j + 2, j + 6);
          if (!/^[0-9a-fA-F]{0,4}$/.test(hex)) return undefined;
          if (hex.length < 4) break;
          j += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return undefined;
        out += e;
        j += 2;
        continue;
      }
      out += c;
      j++;
    }
    i = n;
    return { value: out, closed: false };
  };
  while (i < n) {
    const c = s[i]!;
    if (state === 'key' || state === 'key-or-end') {
      if (c === '}' && state === 'key-or-end') {
        stack.pop();
        i++;
        state = 'after';
      } else if (c === '"') {
        const r = readString();
        if (r === undefined) return undefined;
        if (stack.length === 1) {
          if (!r.closed) return { complete, partial: r.value };
          complete.push(r.value);
        }
        if (!r.closed) return { complete };
        state = 'colon';
      } else return undefined;
    } else if (state === 'colon') {
      if (c !== ':') return undefined;
      i++;
      state = 'value';
    } else if (state === 'value' || state === 'value-or-end') {
      if (c === ']' && state === 'value-or-end') {
        stack.pop();
        i++;
        state = 'after';
      } else if (c === '{') {
        stack.push('{');
        i++;
        state = 'key-or-end';
      } else if (c === '[') {
        if (stack.length === 0) return undefined;
        stack.push('[');
        i++;
        state = 'value-or-end';
      } else if (stack.length === 0) {
        return undefined; // the line must be an object
      } else if (c === '"') {
        const r = readString();
        if (r === undefined) return undefined;
        if (!r.closed) return { complete };
        state = 'after';
      } else {
        const m = /^(-?(0|[1-9]\d*)(\.\d*)?([eE][+-]?\d*)?|t(r(ue?)?)?|f(a(l(se?)?)?)?|n(u(ll?)?)?)/.exec(
          s.slice(i, i + 40),
        );
        if (!m || m[0] === '' || m[0] === '-') {
          if (s.slice(i) === '-') return { complete };
          return undefined;
        }
        const tok = m[0];
        i += tok.length;
        if (i === n) return { complete };
        if (!/^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(tok)) return undefined;
        state = 'after';
      }
    } else {
      // after a value
      if (stack.length === 0) return undefined; // text after the closing brace
      const top = stack[stack.length - 1];
      if (c === ',') {
        i++;
        state = top === '{' ? 'key' : 'value';
      } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
        stack.pop();
        i++;
        state = 'after';
      } else return undefined;
    }
  }
  // A closed object is a whole line, not a prefix: the caller checks it as an entry.
  return stack.length === 0 ? undefined : { complete };
}
