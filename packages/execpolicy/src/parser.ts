import type { Language, Node, Parser } from 'web-tree-sitter';
import { ParserInitError } from './errors.js';

export type { Node };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes base64 without `atob` or `Buffer`, so it works in every JS host. */
export function decodeBase64(text: string): Uint8Array {
  const lookup = new Uint8Array(128);
  for (let i = 0; i < ALPHABET.length; i++) lookup[ALPHABET.charCodeAt(i)] = i;
  let len = text.length;
  while (len > 0 && text[len - 1] === '=') len--;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    const a = lookup[text.charCodeAt(i)]!;
    const b = lookup[text.charCodeAt(i + 1)]!;
    const c = i + 2 < len ? lookup[text.charCodeAt(i + 2)]! : 0;
    const d = i + 3 < len ? lookup[text.charCodeAt(i + 3)]! : 0;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

interface BashLanguage {
  readonly language: Language;
  readonly Parser: typeof Parser;
}

let ready: Promise<BashLanguage> | undefined;

/**
 * Initialises web-tree-sitter from the embedded runtime wasm and loads the embedded
 * tree-sitter-bash grammar. Shared by every engine; safe to call many times.
 *
 * Both the runtime and the two wasm binaries (2.3 MB of base64) are imported here, on first
 * use, so a host that only evaluates argv or fast-path scripts never compiles them.
 */
function loadBashLanguage(): Promise<BashLanguage> {
  ready ??= (async () => {
    try {
      const [{ Language, Parser }, { BASH_WASM_BASE64, RUNTIME_WASM_BASE64 }] = await Promise.all([
        import('web-tree-sitter'),
        import('./generated/wasm.js'),
      ]);
      await Parser.init({
        wasmBinary: decodeBase64(RUNTIME_WASM_BASE64),
        // Never used to fetch (wasmBinary is given); set so the runtime does not touch import.meta.url.
        locateFile: (path: string) => path,
      } as Parameters<typeof Parser.init>[0]);
      return { language: await Language.load(decodeBase64(BASH_WASM_BASE64)), Parser };
    } catch (error) {
      ready = undefined;
      throw new ParserInitError(
        `cannot initialise the bash parser: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  })();
  return ready;
}

/** A bash parser bound to the embedded grammar. */
export async function createBashParser(): Promise<Parser> {
  const { language, Parser } = await loadBashLanguage();
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}
