/** Low-level helpers over the WebAssembly binary format (no dependencies). */

export type WasmKind = 'module' | 'component';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** `module` for a core module, `component` for a component, undefined for anything else. */
export function wasmKind(bytes: Uint8Array): WasmKind | undefined {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return undefined;
  const v = [bytes[4], bytes[5], bytes[6], bytes[7]];
  if (v[0] === 1 && v[1] === 0 && v[2] === 0 && v[3] === 0) return 'module';
  if (v[2] === 1 && v[3] === 0) return 'component';
  return undefined;
}

function readU32(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('truncated LEB128');
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
  throw new Error('LEB128 too long');
}

function writeU32(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export interface MemoryCapResult {
  readonly bytes: Uint8Array;
  /** Each defined memory: initial pages and the maximum before capping (undefined = none). */
  readonly memories: readonly { initial: number; maxBefore: number | undefined }[];
}

/**
 * Sets the maximum of every memory a core module defines to at most `maxPages`.
 * Throws `MemoryCapError` when a memory's initial size is already above the cap.
 * Imported memories are left alone: they are defined (and capped) in another module.
 */
export function capMemories(bytes: Uint8Array, maxPages: number): MemoryCapResult {
  if (wasmKind(bytes) !== 'module') throw new Error('not a core module');
  let pos = 8;
  const memories: { initial: number; maxBefore: number | undefined }[] = [];
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, contentStart] = readU32(bytes, pos + 1);
    const end = contentStart + size;
    if (id === 5) {
      let p = contentStart;
      const [count, afterCount] = readU32(bytes, p);
      p = afterCount;
      const body: number[] = [...writeU32(count)];
      for (let i = 0; i < count; i++) {
        const flags = bytes[p++]!;
        if (flags & 0x04) throw new MemoryCapError('64-bit memories are not supported');
        if (flags & 0x08) throw new MemoryCapError('custom page sizes are not supported');
        const [initial, p1] = readU32(bytes, p);
        p = p1;
        let maxBefore: number | undefined;
        if (flags & 0x01) {
          const [max, p2] = readU32(bytes, p);
          p = p2;
          maxBefore = max;
        }
        if (initial > maxPages) {
          throw new MemoryCapError(
            `memory ${i} starts at ${initial} pages, above the cap of ${maxPages} pages`,
          );
        }
        memories.push({ initial, maxBefore });
        const max = maxBefore === undefined ? maxPages : Math.min(maxBefore, maxPages);
        body.push(flags | 0x01, ...writeU32(initial), ...writeU32(max));
      }
      if (p !== end) throw new Error('malformed memory section');
      const section = [5, ...writeU32(body.length), ...body];
      const out = new Uint8Array(pos + section.length + (bytes.length - end));
      out.set(bytes.subarray(0, pos), 0);
      out.set(section, pos);
      out.set(bytes.subarray(end), pos + section.length);
      return { bytes: out, memories };
    }
    pos = end;
  }
  return { bytes, memories };
}

export class MemoryCapError extends Error {}

/**
 * Sets the maximum of every table a core module defines to at most `maxEntries`, so `table.grow`
 * cannot be used to allocate unbounded host memory (V8 allows 10 million entries per table).
 * A refused `table.grow` returns -1 to the guest. Tables above the cap initially are refused.
 */
export function capTables(bytes: Uint8Array, maxEntries: number): Uint8Array {
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, contentStart] = readU32(bytes, pos + 1);
    const end = contentStart + size;
    if (id === 4) {
      let p = contentStart;
      const [count, afterCount] = readU32(bytes, p);
      p = afterCount;
      const body: number[] = [...writeU32(count)];
      for (let i = 0; i < count; i++) {
        const refType = bytes[p++]!;
        if (refType === 0x40 || (refType !== 0x70 && refType !== 0x6f)) {
          throw new MemoryCapError(
            `table ${i} uses an encoding this host does not support (0x${refType.toString(16)})`,
          );
        }
        const flags = bytes[p++]!;
        if (flags & ~0x01)
          throw new MemoryCapError(`table ${i} has unsupported limit flags 0x${flags.toString(16)}`);
        const [initial, p1] = readU32(bytes, p);
        p = p1;
        let max = maxEntries;
        if (flags & 0x01) {
          const [declared, p2] = readU32(bytes, p);
          p = p2;
          max = Math.min(declared, maxEntries);
        }
        if (initial > maxEntries) {
          throw new MemoryCapError(
            `table ${i} starts with ${initial} entries, above the cap of ${maxEntries}`,
          );
        }
        body.push(refType, 0x01, ...writeU32(initial), ...writeU32(max));
      }
      if (p !== end) throw new Error('malformed table section');
      const section = [4, ...writeU32(body.length), ...body];
      const out = new Uint8Array(pos + section.length + (bytes.length - end));
      out.set(bytes.subarray(0, pos), 0);
      out.set(section, pos);
      out.set(bytes.subarray(end), pos + section.length);
      return out;
    }
    pos = end;
  }
  return bytes;
}

/** Imports and exports of a core module, as WebAssembly.Module reports them. */
export function coreInterface(bytes: Uint8Array): {
  imports: { module: string; name: string; kind: string }[];
  exports: { name: string; kind: string }[];
} {
  const m = new WebAssembly.Module(bytes as BufferSource);
  return { imports: WebAssembly.Module.imports(m), exports: WebAssembly.Module.exports(m) };
}
