import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { wasmKind } from '../src/binary.js';
import { HOST_MODULE } from '../src/constants.js';
import { FUEL_PER_UNIT, instrumentCoreModule } from '../src/instrument.js';
import { NO_PLUGINS, PLUGINS } from './helpers.js';

/** WAT → wasm with binaryen's text parser (a dev dependency), with the features Node 20 runs. */
function wat(source: string): Uint8Array {
  const mod = binaryen.parseText(source);
  try {
    mod.setFeatures(
      binaryen.Features.MVP |
        binaryen.Features.MutableGlobals |
        binaryen.Features.NontrappingFPToInt |
        binaryen.Features.SignExt |
        binaryen.Features.BulkMemory |
        binaryen.Features.SIMD128 |
        binaryen.Features.ReferenceTypes |
        binaryen.Features.Multivalue |
        binaryen.Features.TailCall |
        binaryen.Features.ExceptionHandling |
        binaryen.Features.Atomics,
    );
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

class FuelOut extends Error {}
class MemoryOut extends Error {
  constructor(readonly site: number) {
    super(`memory_limit(${site})`);
  }
}

/** The host side of the instrumentation, as execute.ts links it. */
function host(fuel: number) {
  const global = new WebAssembly.Global({ value: 'i64', mutable: true }, BigInt(fuel));
  return {
    global,
    used: () => fuel - Number(global.value as bigint),
    imports: {
      fuel: global,
      fuel_exhausted: () => {
        throw new FuelOut();
      },
      memory_limit: (site: number) => {
        throw new MemoryOut(site);
      },
    },
  };
}

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}): WebAssembly.Exports {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), imports).exports;
}

type Fn = (...args: number[]) => number;

describe('instrumentCoreModule: fuel', () => {
  const source = wat(`(module
    (func $count (export "count") (param $n i32) (result i32) (local $i i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (local.get $i))
    (func $leaf)
    (func (export "calls") (call $leaf) (call $leaf) (call $leaf))
    (func $rec (export "rec") (param $n i32)
      (if (local.get $n) (then (return_call $rec (i32.sub (local.get $n) (i32.const 1)))))))`);
  const metered = instrumentCoreModule(source);

  it('charges one unit per function entry and one per loop iteration', () => {
    const h = host(1_000);
    const e = instantiate(metered, { [HOST_MODULE]: h.imports });
    expect((e.count as Fn)(10)).toBe(10);
    // entry + 11 loop headers (10 iterations and the exit check)
    expect(h.used()).toBe(1 + 11);
    h.global.value = 1_000n;
    (e.calls as Fn)();
    expect(h.used()).toBe(4);
    h.global.value = 1_000n;
    (e.rec as Fn)(50); // tail calls: every entry is charged although the stack does not grow
    expect(h.used()).toBe(51);
    expect(FUEL_PER_UNIT).toBe(1n);
  });

  it('stops exactly when the fuel is gone, and a loop without calls cannot escape it', () => {
    const h = host(12);
    const e = instantiate(metered, { [HOST_MODULE]: h.imports });
    expect((e.count as Fn)(10)).toBe(10);
    h.global.value = 11n;
    expect(() => (e.count as Fn)(10)).toThrow(FuelOut);
    h.global.value = 1_000n;
    expect(() => (e.count as Fn)(1_000_000)).toThrow(FuelOut);
    expect(h.global.value).toBe(-1n);
  });

  it('computes what the original computes', () => {
    const original = instantiate(source);
    const e = instantiate(metered, { [HOST_MODULE]: host(1e9).imports });
    for (const n of [0, 1, 7, 1000]) expect((e.count as Fn)(n)).toBe((original.count as Fn)(n));
  });
});

describe('instrumentCoreModule: renumbering', () => {
  // Imported and defined functions and globals, referenced from code, exports, the start
  // function, active/passive/declarative element segments, global initialisers and data offsets.
  const source = wat(`(module
    (import "env" "add" (func $add (param i32 i32) (result i32)))
    (import "env" "base" (global $base i32))
    (import "env" "counter" (global $counter (mut i32)))
    (type $un (func (param i32) (result i32)))
    (memory (export "memory") 1)
    (global $g (mut i32) (global.get $base))
    (global $h (export "h") (mut i32) (i32.const 7))
    (table $t 4 funcref)
    (elem (table $t) (i32.const 0) func $double $triple)
    (elem $passive func $inc)
    (elem declare func $inc)
    (data (global.get $base) "\\2a")
    (func $double (type $un) (i32.mul (local.get 0) (i32.const 2)))
    (func $triple (type $un) (i32.mul (local.get 0) (i32.const 3)))
    (func $inc (type $un) (call $add (local.get 0) (i32.const 1)))
    (func $init (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
    (start $init)
    (func (export "indirect") (param i32 i32) (result i32)
      (call_indirect $t (type $un) (local.get 1) (local.get 0)))
    (func (export "viaRef") (param i32) (result i32)
      (table.set $t (i32.const 2) (ref.func $inc))
      (call_indirect $t (type $un) (local.get 0) (i32.const 2)))
    (func (export "passive") (param i32) (result i32)
      (table.init $t $passive (i32.const 3) (i32.const 0) (i32.const 1))
      (call_indirect $t (type $un) (local.get 0) (i32.const 3)))
    (func (export "globals") (result i32)
      (global.set $h (i32.add (global.get $h) (global.get $g)))
      (i32.add (global.get $h) (global.get $counter)))
    (func (export "data") (result i32) (i32.load8_u (global.get $base))))`);

  const env = () => ({
    add: (a: number, b: number) => a + b,
    base: new WebAssembly.Global({ value: 'i32' }, 16),
    counter: new WebAssembly.Global({ value: 'i32', mutable: true }, 100),
  });

  it('behaves like the original everywhere an index occurs', () => {
    const originalEnv = env();
    const meteredEnv = env();
    const a = instantiate(source, { env: originalEnv });
    const b = instantiate(instrumentCoreModule(source), {
      env: meteredEnv,
      [HOST_MODULE]: host(1e6).imports,
    });
    for (const [name, args] of [
      ['indirect', [0, 5]],
      ['indirect', [1, 5]],
      ['viaRef', [41]],
      ['passive', [9]],
      ['globals', []],
      ['globals', []],
      ['data', []],
    ] as const) {
      expect((b[name] as Fn)(...args), name).toBe((a[name] as Fn)(...args));
    }
    expect((b.h as WebAssembly.Global).value).toBe((a.h as WebAssembly.Global).value);
    expect(meteredEnv.counter.value).toBe(101);
    expect(originalEnv.counter.value).toBe(101);
  });

  it('keeps the exports and adds exactly the host imports after the module’s own', () => {
    const before = new WebAssembly.Module(source as BufferSource);
    const after = new WebAssembly.Module(instrumentCoreModule(source) as BufferSource);
    expect(WebAssembly.Module.exports(after)).toEqual(WebAssembly.Module.exports(before));
    expect(WebAssembly.Module.imports(after)).toEqual([
      ...WebAssembly.Module.imports(before),
      { module: HOST_MODULE, name: 'fuel', kind: 'global' },
      { module: HOST_MODULE, name: 'fuel_exhausted', kind: 'function' },
      { module: HOST_MODULE, name: 'memory_limit', kind: 'function' },
    ]);
  });
});

describe('instrumentCoreModule: memory.grow', () => {
  const source = wat(`(module
    (memory (export "memory") 1 3)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "grow2") (param i32) (result i32) (drop (memory.grow (i32.const 0))) (memory.grow (local.get 0))))`);

  it('passes a granted grow through and turns a refused one into memory_limit(site)', () => {
    const h = host(1e6);
    const e = instantiate(instrumentCoreModule(source), { [HOST_MODULE]: h.imports });
    expect((e.grow as Fn)(1)).toBe(1);
    expect((e.grow as Fn)(0)).toBe(2);
    const refused = (() => {
      try {
        (e.grow2 as Fn)(5);
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(MemoryOut);
    expect((refused as MemoryOut).site).toBe(2); // the third memory.grow in the module
    expect((instantiate(source).grow as Fn)(5)).toBe(-1); // what the guest saw before
  });
});

describe('instrumentCoreModule: what it refuses or leaves alone', () => {
  it('refuses a module that imports from the host module (it could refill its fuel)', () => {
    const sneaky = wat(`(module
      (import "${HOST_MODULE}" "fuel" (global $f (mut i64)))
      (func (export "refill") (global.set $f (i64.const 1000000000))))`);
    expect(() => instrumentCoreModule(sneaky)).toThrow(/codex_host\.fuel; codex_host is reserved/);
  });

  it('refuses bytes that do not validate', () => {
    const bytes = wat('(module (func (export "f") (result i32) (i32.const 1)))');
    const broken = bytes.slice(0, bytes.length - 2);
    expect(() => instrumentCoreModule(broken)).toThrow(/does not validate/);
  });

  it('refuses threads: shared memory, defined or imported, and atomics', () => {
    const defined = wat('(module (memory 1 1 shared) (func (export "f")))');
    expect(() => instrumentCoreModule(defined)).toThrow(/shared memory \(threads\)/);
    const imported = wat('(module (import "env" "m" (memory 1 1 shared)) (func (export "f")))');
    expect(() => instrumentCoreModule(imported)).toThrow(/shared memory \(threads\)/);
    const atomics = wat(`(module (import "env" "m" (memory 1 1 shared))
      (func (export "f") (result i32) (i32.atomic.load (i32.const 0))))`);
    expect(() => instrumentCoreModule(atomics)).toThrow(/shared memory|atomics/);
  });

  it('returns a module without function bodies unchanged', () => {
    const bytes = wat('(module (memory (export "memory") 1) (table (export "t") 1 funcref))');
    expect(instrumentCoreModule(bytes)).toBe(bytes);
  });
});

describe('instrumentCoreModule: every instruction family Node 20 runs', () => {
  // SIMD (lanes, shuffles, constants, memory lanes), bulk memory, saturating truncation,
  // sign extension, multi-value blocks, br_table, tail calls, exceptions with catch/delegate,
  // typed select, ref.null/ref.is_null. (Threads are refused: see below.)
  const source = wat(`(module
    (memory 1 1)
    (tag $boom (param i32))
    (func $pair (result i32 i32) (i32.const 3) (i32.const 4))
    (func (export "simd") (result i32)
      (v128.store (i32.const 0) (v128.const i32x4 1 2 3 4))
      (i32x4.extract_lane 3
        (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
          (v128.load32_lane 1 (i32.const 0) (v128.load (i32.const 0))) (v128.const i64x2 0 0))))
    (func (export "bulk") (result i32)
      (memory.fill (i32.const 64) (i32.const 9) (i32.const 8))
      (memory.copy (i32.const 128) (i32.const 64) (i32.const 8))
      (i32.load8_u (i32.const 135)))
    (func (export "numeric") (result i32)
      (i32.add (i32.trunc_sat_f32_s (f32.const 1e20)) (i32.extend8_s (i32.const 255))))
    (func (export "multi") (result i32)
      (block (result i32 i32) (call $pair)) (i32.mul))
    (func (export "table") (param i32) (result i32)
      (block $c (block $b (block $a (br_table $a $b $c (local.get 0)))
        (return (i32.const 10))) (return (i32.const 20))) (i32.const 30))
    (func $down (param i32) (result i32)
      (if (result i32) (local.get 0) (then (return_call $down (i32.sub (local.get 0) (i32.const 1))))
        (else (i32.const 77))))
    (func (export "tail") (result i32) (call $down (i32.const 1000)))
    (func (export "exceptions") (result i32)
      (try (result i32)
        (do (try (do (throw $boom (i32.const 5))) (delegate 0)))
        (catch $boom (i32.add (i32.const 100)))
        (catch_all (i32.const -1))))
    (func (export "refs") (result i32)
      (i32.add (ref.is_null (ref.null func)) (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))))`);

  it('instruments them and computes what the original computes', () => {
    const original = instantiate(source);
    const h = host(1e6);
    const e = instantiate(instrumentCoreModule(source), { [HOST_MODULE]: h.imports });
    for (const [name, args] of [
      ['simd', []],
      ['bulk', []],
      ['numeric', []],
      ['multi', []],
      ['table', [0]],
      ['table', [1]],
      ['table', [9]],
      ['tail', []],
      ['exceptions', []],
      ['refs', []],
    ] as const) {
      expect((e[name] as Fn)(...args), name).toBe((original[name] as Fn)(...args));
    }
    expect(h.used()).toBeGreaterThan(1000); // the tail-call chain alone enters $down 1001 times
  });
});

describe.skipIf(NO_PLUGINS)('instrumentCoreModule: the repository’s plugins', () => {
  it('keeps every built core module’s interface and adds only the host imports', () => {
    const files = readdirSync(PLUGINS).filter((f) => f.endsWith('.wasm'));
    let modules = 0;
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(join(PLUGINS, file)));
      if (wasmKind(bytes) !== 'module') continue;
      if (!WebAssembly.validate(bytes as BufferSource)) continue; // corrupt.wasm and friends
      modules++;
      const before = new WebAssembly.Module(bytes as BufferSource);
      const after = new WebAssembly.Module(instrumentCoreModule(bytes) as BufferSource);
      expect(WebAssembly.Module.exports(after), file).toEqual(WebAssembly.Module.exports(before));
      const added = WebAssembly.Module.imports(after).slice(WebAssembly.Module.imports(before).length);
      expect(added.map((i) => i.module)).toEqual([HOST_MODULE, HOST_MODULE, HOST_MODULE]);
    }
    expect(modules).toBeGreaterThan(5);
  });
});
