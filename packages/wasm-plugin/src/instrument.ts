import type BinaryenNs from 'binaryen';
import { loadOptional } from './optional-deps.js';

let binaryen: typeof BinaryenNs;

/**
 * Loads binaryen (an optional peer dependency: 104 MB that only plugin runs need). Throws
 * {@link PluginRuntimeMissingError} with the install command when it is not installed.
 */
export async function loadInstrumenter(): Promise<void> {
  binaryen ??= ((await loadOptional('binaryen')) as { default: typeof BinaryenNs }).default;
}

import { HOST_MODULE } from './constants.js';

/** Fuel charged at each function entry and loop header. */
export const FUEL_PER_UNIT = 1n;

/**
 * Fuel and memory-grow instrumentation with binaryen (the npm JS/wasm build, so no native
 * dependency at run time).
 *
 * - Binaryen's `log-execution` pass puts a call at every function entry and every loop header.
 *   That call is retargeted to a small function defined in the module which subtracts one from
 *   an imported mutable i64 global `codex_host.fuel` and, once the fuel is negative, calls the
 *   imported `codex_host.fuel_exhausted` (which throws in the host) followed by `unreachable`.
 *   The function is then inlined, so the hot path is a global load/sub/store/compare per loop
 *   iteration, without a call into JS. All core modules of one plugin share the same global.
 * - Binaryen's `instrument-memory` pass, restricted to `memory.grow`, wraps every grow; the post
 *   hook calls `codex_host.memory_limit(callSite)` when the grow was refused (-1), so hitting
 *   the memory cap becomes a `MemoryLimit` violation instead of a silent NULL from malloc.
 */
export function instrumentCoreModule(bytes: Uint8Array): Uint8Array {
  const m = binaryen.readBinary(bytes);
  try {
    m.setFeatures(node20Features());
    const i32 = binaryen.i32;
    const i64 = binaryen.i64;
    const none = binaryen.none;
    const hasFunctionBodies = countDefinedFunctions(m) > 0;
    if (!hasFunctionBodies) return bytes;

    m.addGlobalImport('codex$fuel', HOST_MODULE, 'fuel', i64, true);
    m.addFunctionImport('codex$fuel_exhausted', HOST_MODULE, 'fuel_exhausted', none, none);
    m.addFunctionImport('codex$memory_limit', HOST_MODULE, 'memory_limit', i32, none);

    // 1. memory.grow hooks (only when the module grows memory at all; the pass adds imports).
    binaryen.setPassArgument('instrument-memory', 'memory.grow');
    m.runPasses(['instrument-memory']);
    binaryen.setPassArgument('instrument-memory', null);
    replaceImport(m, 'memory_grow_pre', binaryen.createType([i32, i32]), i32, () => m.local.get(1, i32));
    replaceImport(m, 'memory_grow_post', binaryen.createType([i32, i32]), i32, () =>
      m.block(
        null,
        [
          m.if(
            m.i32.eq(m.local.get(1, i32), m.i32.const(-1)),
            m.call('codex$memory_limit', [m.local.get(0, i32)], none),
          ),
          m.local.get(1, i32),
        ],
        i32,
      ),
    );

    // 2. fuel at function entries and loop headers.
    m.runPasses(['log-execution']);
    replaceImport(m, 'log_execution', i32, none, () =>
      m.block(null, [
        m.global.set('codex$fuel', m.i64.sub(m.global.get('codex$fuel', i64), i64Const(m, FUEL_PER_UNIT))),
        m.if(
          m.i64.lt_s(m.global.get('codex$fuel', i64), i64Const(m, 0n)),
          m.block(null, [m.call('codex$fuel_exhausted', [], none), m.unreachable()]),
        ),
      ]),
    );
    // The remaining instrument-memory imports (load/store hooks) are unused: drop them.
    removeUnusedImports(m);
    binaryen.setAlwaysInlineMaxSize(40);
    m.runPasses(['inlining', 'remove-unused-module-elements']);
    if (!m.validate()) throw new Error('instrumented module failed validation');
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/**
 * What V8 in Node 20 accepts. Not `Features.All`: that lets binaryen emit encodings from newer
 * proposals (compact imports…) that Node 20 cannot decode.
 */
const node20Features = () =>
  binaryen.Features.MVP |
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.SignExt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.SIMD128 |
  binaryen.Features.ReferenceTypes |
  binaryen.Features.Multivalue |
  binaryen.Features.TailCall |
  binaryen.Features.ExceptionHandling;

function countDefinedFunctions(m: BinaryenNs.Module): number {
  let n = 0;
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (!info.module) n++;
  }
  return n;
}

/** Replaces the imported function `name` (added by a pass) with a defined one of the same name. */
function replaceImport(
  m: BinaryenNs.Module,
  name: string,
  params: BinaryenNs.Type,
  results: BinaryenNs.Type,
  body: () => BinaryenNs.ExpressionRef,
): void {
  const ref = m.getFunction(name);
  if (!ref) return;
  const info = binaryen.getFunctionInfo(ref);
  if (!info.module) return;
  m.removeFunction(name);
  m.addFunction(name, params, results, [], body());
}

const PASS_IMPORTS = /^(load|store|struct|array)_|^(memory_grow_pre|memory_grow_post)$/;

function removeUnusedImports(m: BinaryenNs.Module): void {
  const names: string[] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module === 'env' && info.base && PASS_IMPORTS.test(info.base) && info.name === info.base)
      names.push(info.name);
  }
  // These imports are never called after the grow hooks were replaced (loads/stores were not
  // instrumented), so removing them cannot leave dangling calls; validate() double-checks.
  for (const name of names) m.removeFunction(name);
}

/** binaryen ≥ 121 takes one bigint for i64.const; its typings still declare (low, high). */
function i64Const(m: BinaryenNs.Module, value: bigint): BinaryenNs.ExpressionRef {
  return (m.i64.const as unknown as (v: bigint) => BinaryenNs.ExpressionRef)(value);
}
