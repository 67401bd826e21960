import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * Incremental scanner that finds the top-level `"id"` of a JSON object without keeping the text.
 * Used to attribute a message that is too large or malformed to the request it answers.
 */
export class TopLevelIdScanner {
  #depth = 0;
  #inString = false;
  #escape = false;
  #string = '';
  #capturing = false;
  #lastKey: string | undefined;
  #expectValueFor: string | undefined;
  #number = '';
  #id: RequestId | undefined;
  #stringIsKey = false;

  get id(): RequestId | undefined {
    return this.#id;
  }

  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (this.#inString) {
        if (this.#escape) {
          this.#escape = false;
          if (this.#capturing && this.#string.length < 256) this.#string += ch;
        } else if (ch === '\\') this.#escape = true;
        else if (ch === '"') {
          this.#inString = false;
          if (this.#capturing) {
            if (this.#stringIsKey) this.#lastKey = this.#string;
            else if (this.#expectValueFor === 'id' && this.#id === undefined) this.#id = this.#string;
          }
          this.#capturing = false;
          if (!this.#stringIsKey) this.#expectValueFor = undefined;
        } else if (this.#capturing && this.#string.length < 256) this.#string += ch;
        continue;
      }
      if (this.#number !== '') {
        if (/[0-9.eE+-]/.test(ch)) {
          this.#number += ch;
          continue;
        }
        if (this.#expectValueFor === 'id' && this.#id === undefined) {
          const n = Number(this.#number);
          if (Number.isFinite(n)) this.#id = n;
        }
        this.#number = '';
        this.#expectValueFor = undefined;
      }
      switch (ch) {
        case '"':
          this.#inString = true;
          this.#string = '';
          this.#stringIsKey = this.#depth === 1 && this.#expectValueFor === undefined;
          this.#capturing = this.#depth === 1;
          break;
        case ':':
          if (this.#depth === 1) this.#expectValueFor = this.#lastKey;
          break;
        case ',':
          if (this.#depth === 1) this.#expectValueFor = undefined;
          break;
        case '{':
        case '[':
          this.#depth++;
          if (this.#depth === 2) this.#expectValueFor = undefined;
          break;
        case '}':
        case ']':
          this.#depth--;
          break;
        default:
          if (this.#depth === 1 && this.#expectValueFor !== undefined && /[-0-9]/.test(ch)) this.#number = ch;
      }
    }
  }
}

/** Finds the top-level id of a (possibly broken) JSON object text. */
export function scanId(text: string): RequestId | undefined {
  const s = new TopLevelIdScanner();
  s.feed(text);
  s.feed(' ');
  return s.id;
}

/** A line that could not be delivered as a message. */
export interface FramingProblem {
  readonly kind: 'too_large' | 'invalid_json' | 'invalid_message';
  readonly bytes: number;
  /** The top-level id, when one could be found: the request this line was meant to answer. */
  readonly id?: RequestId;
  /** For invalid messages: whether it looked like a request (had a method). */
  readonly detail: string;
}

export interface LineDecoderHandlers {
  message(message: JSONRPCMessage): void;
  problem(problem: FramingProblem): void;
}

/**
 * Newline-delimited JSON-RPC decoder with a hard cap per line. A line over the cap is dropped as it
 * streams (memory stays bounded by the cap) and reported with the id it carried, if any.
 */
export class LineDecoder {
  readonly maxBytes: number;
  readonly #handlers: LineDecoderHandlers;
  #chunks: Buffer[] = [];
  #size = 0;
  #skipping: TopLevelIdScanner | undefined;
  #skippedBytes = 0;

  constructor(maxBytes: number, handlers: LineDecoderHandlers) {
    this.maxBytes = maxBytes;
    this.#handlers = handlers;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.#skipping) {
        this.#skipping.feed(piece.toString('latin1'));
        this.#skippedBytes += piece.length;
      } else if (this.#size + piece.length > this.maxBytes) {
        this.#skipping = new TopLevelIdScanner();
        for (const c of this.#chunks) this.#skipping.feed(c.toString('latin1'));
        this.#skipping.feed(piece.toString('latin1'));
        this.#skippedBytes = this.#size + piece.length;
        this.#chunks = [];
        this.#size = 0;
      } else if (piece.length > 0) {
        this.#chunks.push(piece);
        this.#size += piece.length;
      }
      if (nl === -1) break;
      this.#endLine();
      start = nl + 1;
    }
  }

  #endLine(): void {
    if (this.#skipping) {
      const scanner = this.#skipping;
      scanner.feed(' ');
      const bytes = this.#skippedBytes;
      this.#skipping = undefined;
      this.#skippedBytes = 0;
      this.#handlers.problem({
        kind: 'too_large',
        bytes,
        ...(scanner.id !== undefined ? { id: scanner.id } : {}),
        detail: `message of ${bytes} bytes is over the ${this.maxBytes}-byte cap`,
      });
      return;
    }
    const buf = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#size = 0;
    const text = buf.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      const id = scanId(text);
      this.#handlers.problem({
        kind: 'invalid_json',
        bytes: buf.length,
        ...(id !== undefined ? { id } : {}),
        detail: `not JSON (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
      });
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(data);
    if (!parsed.success) {
      const rawId = (data as { id?: unknown } | null)?.id;
      const id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : undefined;
      const issue = parsed.error.issues[0];
      this.#handlers.problem({
        kind: 'invalid_message',
        bytes: buf.length,
        ...(id !== undefined ? { id } : {}),
        detail: `not a JSON-RPC 2.0 message${issue ? ` (${issue.path.join('.') || 'root'}: ${issue.message})` : ''}`,
      });
      return;
    }
    this.#handlers.message(parsed.data);
  }
}

export function encodeMessage(message: JSONRPCMessage): string {
  return `${JSON.stringify(message)}\n`;
}
