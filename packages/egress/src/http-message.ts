/**
 * Reading an upstream HTTP/1.1 response for the plain-HTTP proxy: the head, how its body is
 * framed, and a chunked-body decoder.
 *
 * Why not node's HTTP client: its parser copies every body byte into a new buffer after the
 * socket has already read it into another new one, and the body then crosses two streams. A
 * 100 MB download through the proxy cost about 80-110 ms of proxy CPU that way against 40-50 ms
 * for the same bytes through a CONNECT tunnel, and missed the 80 % throughput target
 * (bench/egress.bench.mjs). undici (llhttp in WebAssembly) measured slower still, and the pure-JS
 * http-parser-js accepts what a proxy must not (`+value` content lengths, obs-fold, `parseInt`
 * chunk sizes). So the response is read here, from the socket's own reused read buffer.
 *
 * It is strict on purpose, stricter than llhttp where they differ: a response the proxy is unsure
 * how to frame is refused (502), never guessed. Requests are still parsed by node's server
 * (llhttp), and the response head the client sees is rebuilt by node's ServerResponse with one
 * framing of the proxy's choosing, so the client and the proxy cannot disagree on where a response
 * ends. The differential test (test/http-message.test.ts) holds this parser to node's on a corpus
 * of valid and hostile responses.
 */

import { MalformedResponseError } from './errors.js';

export interface ResponseHead {
  readonly versionMinor: 0 | 1;
  readonly status: number;
  readonly reason: string;
  /** Names and values alternating, as node's `rawHeaders`; values without surrounding whitespace. */
  readonly rawHeaders: readonly string[];
}

/** How the body of a response is delimited. */
export interface BodyFraming {
  /** No body, `length` bytes, chunked, or until the server closes the connection. */
  readonly kind: 'none' | 'length' | 'chunked' | 'close';
  /** The Content-Length the response declared, or null. */
  readonly length: number | null;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** rawHeaders minus hop-by-hop ones (and those named in Connection), as [name, value] pairs. */
export function forwardHeaders(raw: readonly string[], replaceHost?: string): [string, string][] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) named.add(t.trim().toLowerCase());
    }
  }
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    if (replaceHost !== undefined && lower === 'host') continue;
    out.push([name, raw[i + 1]!]);
  }
  if (replaceHost !== undefined) out.unshift(['Host', replaceHost]);
  return out;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Where the head in `buf` ends (the index after its blank line), or -1 while incomplete.
 * A line feed without a carriage return before it is refused at once rather than waited on.
 */
export function findHeadEnd(buf: Buffer, from = 0): number {
  let i = buf.indexOf(LF, from);
  while (i >= 0) {
    if (i === 0 || buf[i - 1] !== CR) throw new MalformedResponseError('line ends in a bare LF');
    if (i >= 3 && buf[i - 2] === LF && buf[i - 3] === CR) return i + 1;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values: visible characters, spaces and tabs, and obs-text; no other control character.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Parses a complete head (status line, fields, blank line) as {@link findHeadEnd} delimited it. */
export function parseResponseHead(head: Buffer): ResponseHead {
  const lines = head.toString('latin1', 0, head.length - 4).split('\r\n');
  const m = STATUS_LINE.exec(lines[0]!);
  if (!m) throw new MalformedResponseError(`bad status line "${lines[0]!.slice(0, 64)}"`);
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.includes('\r')) throw new MalformedResponseError('bare CR in the head');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // No folded lines, no space before the colon: both are old ways to smuggle a field.
    if (!TOKEN.test(name)) throw new MalformedResponseError(`bad header line "${line.slice(0, 64)}"`);
    const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
    // llhttp takes no tab after a length's digits; nor does this reader.
    if (/^content-length$/i.test(name) && /\t[\t ]*$/.test(line)) {
      throw new MalformedResponseError('a tab after Content-Length');
    }
    if (!FIELD_VALUE.test(value)) throw new MalformedResponseError(`bad value of header ${name}`);
    rawHeaders.push(name, value);
  }
  return { versionMinor: m[1] === '1' ? 1 : 0, status: Number(m[2]), reason: m[3] ?? '', rawHeaders };
}

/** RFC 9112 §6.3 for a response to `method`; ambiguous framing is refused. */
export function bodyFraming(head: ResponseHead, method: string): BodyFraming {
  const { status } = head;
  let te: string[] | null = null;
  let length: string | null = null;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (lower === 'transfer-encoding') te = [...(te ?? []), ...value.split(',').map((v) => v.trim())];
    else if (lower === 'content-length') {
      // One field, digits only: a repeated or listed length is refused even when the copies agree
      // (node's client refuses it too), and `+5`, `0x5`, `5e0` are not numbers here.
      if (length !== null) throw new MalformedResponseError('more than one Content-Length');
      if (!/^\d{1,15}$/.test(value)) throw new MalformedResponseError(`bad Content-Length "${value}"`);
      length = value;
    }
  }
  const declared = length === null ? null : Number(length);
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
    return { kind: 'none', length: declared };
  }
  if (te !== null) {
    if (length !== null) throw new MalformedResponseError('both Transfer-Encoding and Content-Length');
    if (te.length !== 1 || te[0]!.toLowerCase() !== 'chunked') {
      throw new MalformedResponseError(`unsupported Transfer-Encoding "${te.join(', ')}"`);
    }
    return { kind: 'chunked', length: null };
  }
  return declared === null ? { kind: 'close', length: null } : { kind: 'length', length: declared };
}

/** Whether the upstream connection may carry another request after this response. */
export function keepsAlive(head: ResponseHead): boolean {
  if (head.versionMinor === 0) return false;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection' && /(?:^|,)\s*close\s*(?:,|$)/i.test(raw[i + 1]!))
      return false;
  }
  return true;
}

/** Longest chunk-size line (size and extensions) and trailer section accepted. */
const MAX_CHUNK_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

// The decoder's states. Size and the Ext* ones are those of a chunk-size line.
const Chunk = {
  Size: 0,
  ExtNameStart: 1,
  ExtName: 2,
  ExtValueStart: 3,
  ExtToken: 4,
  ExtQuoted: 5,
  ExtQuotedPair: 6,
  ExtAfterQuoted: 7,
  SizeLf: 8,
  Data: 9,
  DataCr: 10,
  DataLf: 11,
  TrailerStart: 12,
  TrailerName: 13,
  TrailerValue: 14,
  TrailerLf: 15,
  EndLf: 16,
  Done: 17,
} as const;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** tchar (RFC 9110 5.6.2), by byte. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
/** A field value's bytes: tab, space, visible characters and obs-text. */
const isFieldByte = (c: number) => c === 0x09 || (c >= 0x20 && c !== 0x7f);

/**
 * An incremental decoder of a chunked body. {@link feed} hands out each piece of data as a view
 * of the buffer it was given (no copy) and returns how many bytes it consumed; after the last
 * chunk and the trailer section (dropped) {@link done} is true and the rest is not consumed.
 */
export class ChunkedDecoder {
  private state: number = Chunk.Size;
  private left = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** The name of the trailer field being read, lower case (only as long as a framing field's). */
  private trailerName = '';

  get done(): boolean {
    return this.state === Chunk.Done;
  }

  feed(buf: Buffer, onData: (data: Buffer) => void): number {
    let i = 0;
    const n = buf.length;
    while (i < n && this.state !== Chunk.Done) {
      if (this.state === Chunk.Data) {
        const take = Math.min(this.left, n - i);
        onData(buf.subarray(i, i + take));
        i += take;
        this.left -= take;
        if (this.left === 0) this.state = Chunk.DataCr;
        continue;
      }
      const c = buf[i++]!;
      switch (this.state) {
        case Chunk.Size: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.digits > 13) throw new MalformedResponseError('chunk size too large');
            this.left = this.left * 16 + h;
          } else if (this.digits === 0) throw new MalformedResponseError('chunk size expected');
          else if (c === 0x3b) this.state = Chunk.ExtNameStart;
          else if (c === CR) this.state = Chunk.SizeLf;
          else throw new MalformedResponseError('bad chunk size line');
          break;
        }
        // chunk-ext = *( ";" name [ "=" ( token / quoted-string ) ] ), without whitespace, as llhttp.
        case Chunk.ExtNameStart:
          if (TCHAR[c] !== 1) throw new MalformedResponseError('bad chunk extension');
          this.state = Chunk.ExtName;
          break;
        case Chunk.ExtName:
        case Chunk.ExtToken:
          if (TCHAR[c] === 1) break;
          if (c === 0x3d && this.state === Chunk.ExtName) this.state = Chunk.ExtValueStart;
          else this.extEnd(c);
          break;
        case Chunk.ExtValueStart:
          if (c === 0x22) this.state = Chunk.ExtQuoted;
          else if (TCHAR[c] === 1) this.state = Chunk.ExtToken;
          else throw new MalformedResponseError('bad chunk extension');
          break;
        case Chunk.ExtQuoted:
          if (c === 0x22) this.state = Chunk.ExtAfterQuoted;
          else if (c === 0x5c) this.state = Chunk.ExtQuotedPair;
          else if (!isFieldByte(c)) throw new MalformedResponseError('bad chunk extension');
          break;
        case Chunk.ExtQuotedPair:
          if (!isFieldByte(c)) throw new MalformedResponseError('bad chunk extension');
          this.state = Chunk.ExtQuoted;
          break;
        case Chunk.ExtAfterQuoted:
          this.extEnd(c);
          break;
        case Chunk.SizeLf:
          if (c !== LF) throw new MalformedResponseError('chunk size line must end in CRLF');
          this.digits = 0;
          this.lineBytes = 0;
          this.state = this.left === 0 ? Chunk.TrailerStart : Chunk.Data;
          break;
        case Chunk.DataCr:
          if (c !== CR) throw new MalformedResponseError('chunk data must end in CRLF');
          this.state = Chunk.DataLf;
          break;
        case Chunk.DataLf:
          if (c !== LF) throw new MalformedResponseError('chunk data must end in CRLF');
          this.state = Chunk.Size;
          break;
        // Trailer fields are read as strictly as header fields, then dropped.
        case Chunk.TrailerStart:
          if (c === CR) this.state = Chunk.EndLf;
          else if (TCHAR[c] === 1) {
            this.trailerName = String.fromCharCode(c).toLowerCase();
            this.state = Chunk.TrailerName;
          } else throw new MalformedResponseError('bad trailer line');
          break;
        case Chunk.TrailerName:
          if (TCHAR[c] === 1) {
            if (this.trailerName.length <= 17) this.trailerName += String.fromCharCode(c).toLowerCase();
          } else if (c === 0x3a) {
            if (this.trailerName === 'content-length' || this.trailerName === 'transfer-encoding') {
              throw new MalformedResponseError(`${this.trailerName} in the trailers`);
            }
            this.state = Chunk.TrailerValue;
          } else throw new MalformedResponseError('bad trailer line');
          break;
        case Chunk.TrailerValue:
          if (c === CR) this.state = Chunk.TrailerLf;
          else if (!isFieldByte(c)) throw new MalformedResponseError('bad trailer line');
          break;
        case Chunk.TrailerLf:
          if (c !== LF) throw new MalformedResponseError('trailer line must end in CRLF');
          this.state = Chunk.TrailerStart;
          break;
        case Chunk.EndLf:
          if (c !== LF) throw new MalformedResponseError('trailer line must end in CRLF');
          this.state = Chunk.Done;
          break;
      }
      if (this.state < Chunk.SizeLf && ++this.lineBytes > MAX_CHUNK_LINE) {
        throw new MalformedResponseError('chunk size line too long');
      }
      if (this.state >= Chunk.TrailerStart && ++this.trailerBytes > MAX_TRAILERS) {
        throw new MalformedResponseError('trailers too large');
      }
    }
    return i;
  }

  /** After an extension's name or value: another extension, or the end of the line. */
  private extEnd(c: number): void {
    if (c === 0x3b) this.state = Chunk.ExtNameStart;
    else if (c === CR) this.state = Chunk.SizeLf;
    else throw new MalformedResponseError('bad chunk extension');
  }
}
