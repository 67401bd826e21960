import { HOST_MODULE } from './constants.js';

/** Fuel charged at each function entry and loop header. */
export const FUEL_PER_UNIT = 1n;

/**
 * Fuel and memory-grow instrumentation: a purpose-built rewriter of the core-module binary format
 * (no dependencies; it replaced binaryen, whose load alone cost ~0.9 s per cold build and whose
 * re-emitted code took V8 about three times longer to compile).
 *
 * - **Fuel.** At every function entry and right after every `loop` instruction (so once per
 *   iteration) the rewriter inserts
 *   `fuel -= FUEL_PER_UNIT; if (fuel < 0) { codex_host.fuel_exhausted(); unreachable }` against an
 *   imported mutable i64 global `codex_host.fuel` (all core modules of a plugin share it). The
 *   check is inline: a global load/sub/store/compare per iteration, no call into JS.
 * - **Memory.** Every `memory.grow` becomes a call to a function added to the module that grows
 *   the memory and, when the grow was refused (-1), calls `codex_host.memory_limit(site)` (which
 *   throws in the host), so hitting the memory cap is a `MEMORY_LIMIT` violation instead of a
 *   silent NULL from malloc.
 *
 * Everything else is copied byte for byte. The added imports come after the module's own, so
 * function and global indices at or above them are renumbered everywhere they occur (code,
 * exports, start, elements, global and data initialisers); the `name` section is dropped.
 *
 * Soundness rests on three checks: the input must validate (`WebAssembly.validate`, the features
 * this Node enables), every instruction is decoded with its exact immediates (an opcode this
 * decoder does not know is refused, never copied blindly), and the output must validate too. A
 * module that already imports from `codex_host` is refused: it could otherwise reach the fuel
 * global. Threads (shared memory, atomics) are refused, as binaryen's feature set refused them.
 */
export function instrumentCoreModule(bytes: Uint8Array): Uint8Array {
  if (!WebAssembly.validate(bytes as BufferSource)) throw new Error('the core module does not validate');
  const out = new Rewriter(bytes).run();
  if (!WebAssembly.validate(out as BufferSource)) {
    throw new Error('the instrumented module does not validate (unsupported construct)');
  }
  return out;
}

enum Section {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Global = 6,
  Export = 7,
  Start = 8,
  Element = 9,
  Code = 10,
  Data = 11,
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** A growable byte buffer with LEB128 writers. */
class Out {
  buf: Uint8Array;
  len = 0;
  constructor(size = 256) {
    this.buf = new Uint8Array(size);
  }
  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.#room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32(value: number): void {
    let v = value >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }
  s64(value: bigint): void {
    let v = BigInt.asIntN(64, value);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }
  name(s: string): void {
    const b = enc.encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  /** Appends `section id`, its size and its content. */
  section(id: number, content: Out): void {
    this.byte(id);
    this.u32(content.len);
    this.bytes(content.view());
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

class Unsupported extends Error {}

/** A reader over a byte range. */
class In {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}
  byte(): number {
    if (this.pos >= this.end) throw new Error('unexpected end of section');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error('LEB128 too long');
    }
  }
  /** Skips a signed LEB128 of any width (the module validated, so its width is right). */
  skipLeb(): void {
    while (this.byte() & 0x80) {
      /* continuation */
    }
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw new Error('unexpected end of section');
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
    return dec.decode(this.bytes.subarray(start, this.pos));
  }
}

const HOST_TYPES = {
  /** () → () */
  void: Uint8Array.of(0x60, 0x00, 0x00),
  /** (i32) → () */
  i32: Uint8Array.of(0x60, 0x01, 0x7f, 0x00),
  /** (i32 delta, i32 site) → i32 */
  grow: Uint8Array.of(0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f),
};

class Rewriter {
  readonly #bytes: Uint8Array;
  #importedFuncs = 0;
  #importedGlobals = 0;
  #definedFuncs = 0;
  #typeCount = 0;
  #growSites = 0;
  /** Function indices of the added imports and of the grow helper. */
  #fuelExhausted = 0;
  #memoryLimit = 0;
  #growHelper = 0;
  #fuelGlobal = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  run(): Uint8Array {
    const sections = this.#sections();
    const memories = sections.find((s) => s.id === 5);
    if (memories) {
      const r = new In(this.#bytes, memories.start, memories.end);
      for (let n = r.u32(); n > 0; n--) this.#memoryLimits(r);
    }
    const code = sections.find((s) => s.id === Section.Code);
    if (!code || this.#count(code) === 0) return this.#bytes; // nothing runs: nothing to meter
    const type = sections.find((s) => s.id === Section.Type);
    this.#typeCount = type ? this.#count(type) : 0;
    const imports = sections.find((s) => s.id === Section.Import);
    if (imports) this.#scanImports(imports);
    const funcs = sections.find((s) => s.id === Section.Function);
    this.#definedFuncs = funcs ? this.#count(funcs) : 0;
    this.#fuelExhausted = this.#importedFuncs;
    this.#memoryLimit = this.#importedFuncs + 1;
    this.#growHelper = this.#importedFuncs + 2 + this.#definedFuncs;
    this.#fuelGlobal = this.#importedGlobals;

    // The code is rewritten first: whether the grow helper is needed depends on it.
    const newCode = this.#code(code);
    const helper = this.#growSites > 0;
    const out = new Out(this.#bytes.length + newCode.len - (code.end - code.start) + 256);
    out.bytes(this.#bytes.subarray(0, 8));
    let wroteImports = false;
    const writeImports = () => {
      if (!wroteImports) out.section(Section.Import, this.#imports(imports));
      wroteImports = true;
    };
    for (const s of sections) {
      // A module without an import section gets one right after the type section.
      if (s.id !== Section.Custom && s.id !== Section.Type && s.id !== Section.Import) writeImports();
      switch (s.id) {
        case Section.Custom:
          if (this.#customName(s) !== 'name') out.bytes(this.#bytes.subarray(s.headerStart, s.end));
          break;
        case Section.Type:
          out.section(Section.Type, this.#types(s));
          writeImports();
          break;
        case Section.Import:
          writeImports();
          break;
        case Section.Function:
          out.section(Section.Function, this.#functions(s, helper));
          break;
        case Section.Global:
          out.section(Section.Global, this.#globals(s));
          break;
        case Section.Export:
          out.section(Section.Export, this.#exports(s));
          break;
        case Section.Start: {
          const r = new In(this.#bytes, s.start, s.end);
          const o = new Out();
          o.u32(this.#func(r.u32()));
          out.section(Section.Start, o);
          break;
        }
        case Section.Element:
          out.section(Section.Element, this.#elements(s));
          break;
        case Section.Code:
          out.section(Section.Code, newCode);
          break;
        case Section.Data:
          out.section(Section.Data, this.#data(s));
          break;
        default:
          out.bytes(this.#bytes.subarray(s.headerStart, s.end));
      }
    }
    return out.view().slice();
  }

  #sections(): { id: number; headerStart: number; start: number; end: number }[] {
    const r = new In(this.#bytes, 8, this.#bytes.length);
    const list = [];
    while (r.pos < r.end) {
      const headerStart = r.pos;
      const id = r.byte();
      const size = r.u32();
      const start = r.pos;
      r.skip(size);
      list.push({ id, headerStart, start, end: r.pos });
    }
    return list;
  }

  #count(s: { start: number; end: number }): number {
    return new In(this.#bytes, s.start, s.end).u32();
  }

  #customName(s: { start: number; end: number }): string {
    try {
      return new In(this.#bytes, s.start, s.end).name();
    } catch {
      return '';
    }
  }

  #func(index: number): number {
    return index >= this.#importedFuncs ? index + 2 : index;
  }

  #global(index: number): number {
    return index >= this.#importedGlobals ? index + 1 : index;
  }

  #types(s: { start: number; end: number }): Out {
    const r = new In(this.#bytes, s.start, s.end);
    const count = r.u32();
    const o = new Out();
    o.u32(count + 3);
    o.bytes(this.#bytes.subarray(r.pos, s.end));
    o.bytes(HOST_TYPES.void);
    o.bytes(HOST_TYPES.i32);
    o.bytes(HOST_TYPES.grow);
    return o;
  }

  /** Counts imported functions and globals; refuses a module that imports from `codex_host`. */
  #scanImports(s: { start: number; end: number }): void {
    const r = new In(this.#bytes, s.start, s.end);
    for (let n = r.u32(); n > 0; n--) {
      const module = r.name();
      const field = r.name();
      if (module === HOST_MODULE) {
        throw new Unsupported(
          `the module imports ${module}.${field}; ${HOST_MODULE} is reserved for the host`,
        );
      }
      const kind = r.byte();
      if (kind === 0x00) {
        r.u32();
        this.#importedFuncs++;
      } else if (kind === 0x01) {
        r.byte();
        this.#limits(r);
      } else if (kind === 0x02) {
        this.#memoryLimits(r);
      } else if (kind === 0x03) {
        r.byte();
        r.byte();
        this.#importedGlobals++;
      } else if (kind === 0x04) {
        r.byte();
        r.u32();
      } else {
        throw new Unsupported(`import kind 0x${kind.toString(16)}`);
      }
    }
  }

  /**
   * Threads are refused, as they were under binaryen (its feature set for Node 20 left them out):
   * a plugin has no use for shared memory, and `memory.atomic.wait` could park the thread.
   */
  #memoryLimits(r: In): void {
    const flags = r.bytes[r.pos]!;
    if (flags & 0x02) throw new Unsupported('shared memory (threads)');
    this.#limits(r);
  }

  #limits(r: In): void {
    const flags = r.byte();
    r.u32();
    if (flags & 0x01) r.u32();
  }

  #imports(s: { start: number; end: number } | undefined): Out {
    const o = new Out();
    let count = 0;
    let rest: Uint8Array = new Uint8Array();
    if (s) {
      const r = new In(this.#bytes, s.start, s.end);
      count = r.u32();
      rest = this.#bytes.subarray(r.pos, s.end);
    }
    o.u32(count + 3);
    o.bytes(rest);
    // Appended after the module's own imports: function imports numImportedFuncs and +1, global
    // import numImportedGlobals.
    o.name(HOST_MODULE);
    o.name('fuel');
    o.byte(0x03);
    o.byte(0x7e);
    o.byte(0x01);
    o.name(HOST_MODULE);
    o.name('fuel_exhausted');
    o.byte(0x00);
    o.u32(this.#typeCount);
    o.name(HOST_MODULE);
    o.name('memory_limit');
    o.byte(0x00);
    o.u32(this.#typeCount + 1);
    return o;
  }

  #functions(s: { start: number; end: number }, helper: boolean): Out {
    const r = new In(this.#bytes, s.start, s.end);
    const count = r.u32();
    const o = new Out();
    o.u32(count + (helper ? 1 : 0));
    o.bytes(this.#bytes.subarray(r.pos, s.end));
    if (helper) o.u32(this.#typeCount + 2);
    return o;
  }

  /**
   * Rewrites a section that is a vector of entries (globals, exports, elements, data): the count
   * is copied and `entry` rewrites each entry from `r` into `o`.
   */
  #vector(s: { start: number; end: number }, entry: (r: In, o: Out) => void): Out {
    const r = new In(this.#bytes, s.start, s.end);
    const o = new Out();
    const count = r.u32();
    o.u32(count);
    for (let i = 0; i < count; i++) entry(r, o);
    return o;
  }

  #globals(s: { start: number; end: number }): Out {
    return this.#vector(s, (r, o) => {
      o.byte(r.byte()); // value type
      o.byte(r.byte()); // mutability
      this.#expr(r, o, false);
    });
  }

  #exports(s: { start: number; end: number }): Out {
    return this.#vector(s, (r, o) => {
      o.name(r.name());
      const kind = r.byte();
      const index = r.u32();
      o.byte(kind);
      o.u32(kind === 0x00 ? this.#func(index) : kind === 0x03 ? this.#global(index) : index);
    });
  }

  #elements(s: { start: number; end: number }): Out {
    return this.#vector(s, (r, o) => {
      const flags = r.u32();
      o.u32(flags);
      if (flags > 7) throw new Unsupported(`element segment flags ${flags}`);
      if (flags & 0x02 && !(flags & 0x01)) o.u32(r.u32()); // table index (flags 2, 6)
      if (!(flags & 0x01)) this.#expr(r, o, false); // active: offset
      if (flags & 0x03) o.byte(r.byte()); // elemkind (flags 1-3) or reftype (flags 5-7)
      const n = r.u32();
      o.u32(n);
      for (let k = 0; k < n; k++) {
        if (flags & 0x04) this.#expr(r, o, false);
        else o.u32(this.#func(r.u32()));
      }
    });
  }

  #data(s: { start: number; end: number }): Out {
    return this.#vector(s, (r, o) => {
      const flags = r.u32();
      o.u32(flags);
      if (flags === 2) o.u32(r.u32());
      else if (flags > 2) throw new Unsupported(`data segment flags ${flags}`);
      if (flags !== 1) this.#expr(r, o, false);
      const n = r.u32();
      o.u32(n);
      o.bytes(this.#bytes.subarray(r.pos, r.pos + n));
      r.skip(n);
    });
  }

  #code(s: { start: number; end: number }): Out {
    const r = new In(this.#bytes, s.start, s.end);
    const o = new Out(((s.end - s.start) * 5) >> 2);
    const count = r.u32();
    const helper = () => this.#growSites > 0;
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const size = r.u32();
      const body = new In(this.#bytes, r.pos, r.pos + size);
      r.skip(size);
      const b = new Out(size + (size >> 2) + 32);
      // Locals: copied as they are (the instrumentation needs none).
      const groups = body.u32();
      b.u32(groups);
      for (let g = 0; g < groups; g++) {
        b.u32(body.u32());
        const t = body.byte();
        if (t === 0x63 || t === 0x64) throw new Unsupported('typed function references');
        b.byte(t);
      }
      this.#charge(b);
      this.#expr(body, b, true);
      if (body.pos !== body.end) throw new Error('function body does not end where its size says');
      bodies.push(b.view().slice());
    }
    o.u32(count + (helper() ? 1 : 0));
    for (const body of bodies) {
      o.u32(body.length);
      o.bytes(body);
    }
    if (helper()) {
      // (func (param $delta i32) (param $site i32) (result i32) (local $r i32)
      //   (local.tee $r (memory.grow (local.get $delta)))
      //   (if (i32.eq (i32.const -1)) (then (call $memory_limit (local.get $site))))
      //   (local.get $r))
      const b = new Out();
      b.bytes(Uint8Array.of(0x01, 0x01, 0x7f));
      b.bytes(
        Uint8Array.of(0x20, 0x00, 0x40, 0x00, 0x22, 0x02, 0x41, 0x7f, 0x46, 0x04, 0x40, 0x20, 0x01, 0x10),
      );
      b.u32(this.#memoryLimit);
      b.bytes(Uint8Array.of(0x0b, 0x20, 0x02, 0x0b));
      o.u32(b.len);
      o.bytes(b.view());
    }
    return o;
  }

  /** `fuel -= FUEL_PER_UNIT; if (fuel < 0) { fuel_exhausted(); unreachable }` */
  #charge(o: Out): void {
    o.byte(0x23);
    o.u32(this.#fuelGlobal);
    o.byte(0x42);
    o.s64(FUEL_PER_UNIT);
    o.byte(0x7d); // i64.sub
    o.byte(0x24);
    o.u32(this.#fuelGlobal);
    o.byte(0x23);
    o.u32(this.#fuelGlobal);
    o.byte(0x42);
    o.byte(0x00);
    o.byte(0x53); // i64.lt_s
    o.byte(0x04);
    o.byte(0x40); // if (empty block type)
    o.byte(0x10);
    o.u32(this.#fuelExhausted);
    o.byte(0x00); // unreachable
    o.byte(0x0b); // end
  }

  /**
   * Copies one expression (a function body or a constant initialiser) up to and including its
   * final `end`, renumbering function and global indices, metering loops (`meter`) and routing
   * `memory.grow` through the helper.
   */
  #expr(r: In, o: Out, meter: boolean): void {
    let depth = 0;
    const bytes = this.#bytes;
    // Unchanged instructions are copied in runs: `from` is the start of the pending run.
    let from = r.pos;
    const flush = (to: number) => {
      if (to > from) o.bytes(bytes.subarray(from, to));
    };
    for (;;) {
      const at = r.pos;
      const op = r.byte();
      switch (op) {
        case 0x0b: // end
          if (depth === 0) {
            flush(r.pos);
            return;
          }
          depth--;
          continue;
        case 0x02: // block
        case 0x03: // loop
        case 0x04: // if
        case 0x06: // try
          this.#blockType(r);
          depth++;
          if (op === 0x03 && meter) {
            flush(r.pos);
            this.#charge(o);
            from = r.pos;
          }
          continue;
        case 0x18: // delegate: ends a try block like `end` does
          r.u32();
          depth--;
          continue;
        case 0x10: // call
        case 0x12: // return_call
        case 0xd2: {
          // ref.func
          const index = r.u32();
          const next = this.#func(index);
          if (next !== index) {
            flush(at);
            o.byte(op);
            o.u32(next);
            from = r.pos;
          }
          continue;
        }
        case 0x23: // global.get
        case 0x24: {
          // global.set
          const index = r.u32();
          const next = this.#global(index);
          if (next !== index) {
            flush(at);
            o.byte(op);
            o.u32(next);
            from = r.pos;
          }
          continue;
        }
        case 0x40: {
          // memory.grow
          const mem = r.u32();
          if (!meter) throw new Unsupported('memory.grow in a constant expression');
          if (mem !== 0) throw new Unsupported(`memory.grow on memory ${mem}`);
          flush(at);
          o.byte(0x41);
          o.s64(BigInt(this.#growSites++ & 0x7fffffff));
          o.byte(0x10);
          o.u32(this.#growHelper);
          from = r.pos;
          continue;
        }
        default:
          this.#immediates(op, r);
      }
    }
  }

  #blockType(r: In): void {
    const first = r.bytes[r.pos];
    if (first === 0x63 || first === 0x64) throw new Unsupported('typed function references');
    r.skipLeb(); // 0x40, a value type (one byte) or a type index (s33)
  }

  /** Skips the immediates of every other instruction; refuses opcodes this decoder does not know. */
  #immediates(op: number, r: In): void {
    if (op <= 0x01 || op === 0x05 || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b) return;
    if ((op >= 0x45 && op <= 0xc4) || op === 0xd1) return; // numeric, sign-ext, ref.is_null
    switch (op) {
      case 0x07: // catch tag
      case 0x08: // throw tag
      case 0x09: // rethrow label
      case 0x0c: // br
      case 0x0d: // br_if
      case 0x20: // local.get
      case 0x21: // local.set
      case 0x22: // local.tee
      case 0x25: // table.get
      case 0x26: // table.set
      case 0x3f: // memory.size
        r.u32();
        return;
      case 0x0e: {
        // br_table
        for (let n = r.u32(); n > 0; n--) r.u32();
        r.u32();
        return;
      }
      case 0x11: // call_indirect type table
      case 0x13: // return_call_indirect
        r.u32();
        r.u32();
        return;
      case 0x1c: // select t*
        for (let n = r.u32(); n > 0; n--) {
          const t = r.byte();
          if (t === 0x63 || t === 0x64) throw new Unsupported('typed function references');
        }
        return;
      case 0x41: // i32.const
      case 0x42: // i64.const
        r.skipLeb();
        return;
      case 0x43:
        r.skip(4);
        return;
      case 0x44:
        r.skip(8);
        return;
      case 0xd0: {
        // ref.null heaptype
        const t = r.byte();
        if (t !== 0x70 && t !== 0x6f) throw new Unsupported(`ref.null 0x${t.toString(16)}`);
        return;
      }
      case 0xfc:
        this.#prefixFC(r);
        return;
      case 0xfd:
        this.#prefixFD(r);
        return;
      case 0xfe:
        throw new Unsupported('atomics (threads)');
    }
    if (op >= 0x28 && op <= 0x3e) {
      this.#memarg(r);
      return;
    }
    throw new Unsupported(`opcode 0x${op.toString(16)}`);
  }

  #memarg(r: In): void {
    const align = r.u32();
    if (align & 0x40) throw new Unsupported('multiple memories');
    r.u32();
  }

  #prefixFC(r: In): void {
    const sub = r.u32();
    if (sub <= 7) return; // saturating truncations
    switch (sub) {
      case 8: // memory.init data mem
      case 10: // memory.copy mem mem
      case 12: // table.init elem table
      case 14: // table.copy table table
        r.u32();
        r.u32();
        return;
      case 9: // data.drop
      case 11: // memory.fill mem
      case 13: // elem.drop
      case 15: // table.grow
      case 16: // table.size
      case 17: // table.fill
        r.u32();
        return;
    }
    throw new Unsupported(`opcode 0xfc ${sub}`);
  }

  #prefixFD(r: In): void {
    const sub = r.u32();
    if (sub <= 11 || sub === 92 || sub === 93) {
      this.#memarg(r); // loads, stores, load*_zero
      return;
    }
    if (sub === 12 || sub === 13) {
      r.skip(16); // v128.const, i8x16.shuffle
      return;
    }
    if (sub >= 21 && sub <= 34) {
      r.skip(1); // extract/replace lane
      return;
    }
    if (sub >= 84 && sub <= 91) {
      this.#memarg(r); // load/store lane
      r.skip(1);
      return;
    }
    if (sub <= 255) return; // every other SIMD instruction has no immediate
    throw new Unsupported(`opcode 0xfd ${sub}`);
  }
}
