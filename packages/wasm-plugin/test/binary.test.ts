import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { capMemories, capTables, MemoryCapError, wasmKind } from '../src/binary.js';
import { ROOT } from './helpers.js';

/** WAT → wasm with binaryen's text parser (a dev dependency), so no wabt is needed here. */
function wat(source: string): Uint8Array {
  const mod = binaryen.parseText(source);
  try {
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

function limitsOf(bytes: Uint8Array): { initial: number; maximum?: number } {
  const m = new WebAssembly.Module(bytes as BufferSource);
  const mem = new WebAssembly.Instance(m, {}).exports.memory as WebAssembly.Memory;
  // grow until refused to learn the real maximum (small numbers only)
  const initial = mem.buffer.byteLength / 65_536;
  let pages = initial;
  while (pages < 1_000) {
    try {
      mem.grow(1);
      pages++;
    } catch {
      return { initial, maximum: pages };
    }
  }
  return { initial };
}

describe('wasmKind', () => {
  it('tells core modules, components and junk apart', () => {
    expect(wasmKind(wat('(module)'))).toBe('module');
    expect(wasmKind(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]))).toBe('component');
    expect(wasmKind(new TextEncoder().encode('#!/bin/sh\necho hi'))).toBeUndefined();
    expect(wasmKind(new Uint8Array([0, 0x61, 0x73]))).toBeUndefined();
  });
});

describe('capMemories', () => {
  it('adds a maximum to a memory without one', () => {
    const out = capMemories(wat('(module (memory (export "memory") 2))'), 5);
    expect(out.memories).toEqual([{ initial: 2, maxBefore: undefined }]);
    expect(limitsOf(out.bytes)).toEqual({ initial: 2, maximum: 5 });
  });

  it('keeps a smaller maximum and lowers a larger one', () => {
    expect(limitsOf(capMemories(wat('(module (memory (export "memory") 1 3))'), 10).bytes)).toEqual({
      initial: 1,
      maximum: 3,
    });
    expect(limitsOf(capMemories(wat('(module (memory (export "memory") 1 300))'), 7).bytes)).toEqual({
      initial: 1,
      maximum: 7,
    });
  });

  it('keeps data segments and code intact around the rewritten section', () => {
    const bytes = wat(`(module (memory (export "memory") 1) (data (i32.const 8) "hello")
      (func (export "peek") (result i32) (i32.load8_u (i32.const 9))))`);
    const capped = capMemories(bytes, 4).bytes;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(capped as BufferSource), {});
    expect((inst.exports.peek as () => number)()).toBe('e'.charCodeAt(0));
  });

  it('refuses a module whose initial memory is above the cap', () => {
    expect(() => capMemories(wat('(module (memory 200))'), 160)).toThrow(MemoryCapError);
    expect(() => capMemories(wat('(module (memory 200))'), 160)).toThrow(/200 pages, above the cap of 160/);
  });

  it('leaves modules without a memory section unchanged', () => {
    const bytes = wat('(module (func (export "f")))');
    expect(capMemories(bytes, 1).bytes).toBe(bytes);
  });
});

describe('vendored preview1 adapter', () => {
  it('is the file from @bytecodealliance/jco 1.35.0 (lib/wasi_snapshot_preview1.command.wasm)', () => {
    const bytes = readFileSync(join(ROOT, 'vendor', 'wasi_snapshot_preview1.command.wasm'));
    const recorded = readFileSync(join(ROOT, 'vendor', 'SHA256SUMS'), 'utf8');
    const sum = createHash('sha256').update(bytes).digest('hex');
    expect(recorded).toContain(`${sum}  wasi_snapshot_preview1.command.wasm`);
    expect(wasmKind(bytes)).toBe('module');
  });
});

describe('capTables', () => {
  it('bounds table.grow so it cannot allocate unbounded host memory', () => {
    const bytes = wat(`(module (table (export "t") 1 funcref)
      (func (export "grow") (param i32) (result i32) (table.grow 0 (ref.null func) (local.get 0))))`);
    const uncapped = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {});
    expect((uncapped.exports.grow as (n: number) => number)(100_000)).toBe(1);
    const capped = new WebAssembly.Instance(
      new WebAssembly.Module(capTables(bytes, 1000) as BufferSource),
      {},
    );
    const grow = capped.exports.grow as (n: number) => number;
    expect(grow(999)).toBe(1);
    expect(grow(1)).toBe(-1);
  });

  it('refuses a table that starts above the cap', () => {
    expect(() => capTables(wat('(module (table 5000 funcref))'), 1000)).toThrow(/starts with 5000 entries/);
  });
});
