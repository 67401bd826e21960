/** Text utilities shared by dedup, ranking and contradiction checks. Pure and deterministic. */

const WORD = /[\p{L}\p{N}]+(?:['\u2019][\p{L}]+)?/gu;

/** Lower-cased word tokens (letters and digits; apostrophes inside words kept). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a bijective avalanche mix. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic 32-bit PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** English function words, ignored by query building, ranking and contradiction checks. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  `a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off
on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves also may might must shall
upon via vs versus`
    .split(/\s+/)
    .filter(Boolean),
);

/** Content words of `text` (tokens minus stopwords and 1-character tokens). */
export function keywords(text: string): string[] {
  return tokenize(text).filter((t) => t.length > 1 && !STOPWORDS.has(t));
}

/** Splits text into sentences (on `.`, `!`, `?` followed by space and a capital/digit, and on blank lines). */
export function sentences(text: string): string[] {
  return text
    .split(/\n\s*\n|(?<=[.!?])\s+(?=["'(\p{Lu}\p{N}])/u)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0);
}

/**
 * Splits a document into passages of roughly `target` characters, on paragraph boundaries where
 * possible (a paragraph longer than `2 * target` is cut on sentence boundaries).
 */
export function passages(text: string, target = 600): string[] {
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 0);
  const out: string[] = [];
  let current = '';
  const flush = () => {
    if (current.length > 0) out.push(current);
    current = '';
  };
  for (const p of paragraphs) {
    const pieces = p.length > 2 * target ? sentences(p) : [p];
    for (const piece of pieces) {
      if (current.length > 0 && current.length + piece.length + 1 > target) flush();
      current = current.length > 0 ? `${current} ${piece}` : piece;
    }
    if (current.length >= target / 2) flush();
  }
  flush();
  return out;
}

/**
 * A light English suffix stripper for search terms (plural -s/-es/-ies, -ed, -ing, final -e), so
 * "allocate", "allocated" and "allocating" meet. Deliberately conservative: no Porter rules.
 */
export function stem(term: string): string {
  let t = term;
  if (t.length > 4 && t.endsWith('ies')) t = `${t.slice(0, -3)}y`;
  else if (t.length > 4 && t.endsWith('sses')) t = t.slice(0, -2);
  else if (t.length > 3 && t.endsWith('s') && !t.endsWith('ss') && !t.endsWith('us') && !t.endsWith('is')) {
    t = t.slice(0, -1);
  }
  if (t.length > 5 && t.endsWith('ing')) t = t.slice(0, -3);
  else if (t.length > 4 && t.endsWith('ed')) t = t.slice(0, -2);
  if (t.length > 4 && t.endsWith('e')) t = t.slice(0, -1);
  return t;
}

/** Term processing shared by the local index and passage ranking: lower case, stopwords out, stemmed. */
export function processSearchTerm(term: string): string | null {
  const t = term.toLowerCase();
  return STOPWORDS.has(t) ? null : stem(t);
}

const LETTER = /\p{L}/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function isWordChar(code: number, ch: string): boolean {
  if (code < 128)
    return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
  return LETTER_OR_DIGIT.test(ch);
}

function isLetter(code: number, ch: string): boolean {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  return LETTER.test(ch);
}

/**
 * The FNV-1a hashes of {@link tokenize}'s tokens, computed in one pass without building the token
 * strings (same tokens, same order; used by fingerprinting to keep allocation low). Writes into
 * `out` (grown when needed) and returns it with the token count.
 */
export function tokenHashes(text: string, out: Int32Array): { hashes: Int32Array; count: number } {
  const lower = text.toLowerCase();
  let hashes = out;
  let count = 0;
  let i = 0;
  const n = lower.length;
  while (i < n) {
    let code = lower.charCodeAt(i);
    // a code point may be a surrogate pair; test it whole
    let ch = code >= 0xd800 && code <= 0xdbff && i + 1 < n ? lower.slice(i, i + 2) : lower[i]!;
    if (!isWordChar(code, ch)) {
      i += ch.length;
      continue;
    }
    let h = 0x811c9dc5;
    while (i < n) {
      code = lower.charCodeAt(i);
      ch = code >= 0xd800 && code <= 0xdbff && i + 1 < n ? lower.slice(i, i + 2) : lower[i]!;
      if (!isWordChar(code, ch)) break;
      for (let k = 0; k < ch.length; k++) h = Math.imul(h ^ ch.charCodeAt(k), 0x01000193);
      i += ch.length;
    }
    // optional apostrophe + letters ("don't", "user’s")
    if (i + 1 < n && (lower[i] === "'" || lower[i] === '’')) {
      const c2 = lower.charCodeAt(i + 1);
      const ch2 = c2 >= 0xd800 && c2 <= 0xdbff && i + 2 < n ? lower.slice(i + 1, i + 3) : lower[i + 1]!;
      if (isLetter(c2, ch2)) {
        h = Math.imul(h ^ lower.charCodeAt(i), 0x01000193);
        i++;
        while (i < n) {
          code = lower.charCodeAt(i);
          ch = code >= 0xd800 && code <= 0xdbff && i + 1 < n ? lower.slice(i, i + 2) : lower[i]!;
          if (!isLetter(code, ch)) break;
          for (let k = 0; k < ch.length; k++) h = Math.imul(h ^ ch.charCodeAt(k), 0x01000193);
          i += ch.length;
        }
      }
    }
    if (count === hashes.length) {
      const grown = new Int32Array(hashes.length * 2);
      grown.set(hashes);
      hashes = grown;
    }
    hashes[count++] = h | 0;
  }
  return { hashes, count };
}
