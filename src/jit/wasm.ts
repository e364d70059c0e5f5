// A small WebAssembly binary encoder: just what the JIT emits (func types, imports of functions, memory and
// globals, functions with locals, exports). Code is appended to growable byte buffers; integers are LEB128.
// Reference: the WebAssembly core specification, "Binary Format" chapter.

export const enum Ty {
  I32 = 0x7f,
  I64 = 0x7e,
  F64 = 0x7c,
  V128 = 0x7b,
}

/** Block type of a structured instruction with no result. */
export const VOID = 0x40;

/** Opcodes used by the code generator (single-byte ones; SIMD ops go through `simd`). */
export const enum W {
  unreachable = 0x00, block = 0x02, loop = 0x03, if_ = 0x04, else_ = 0x05, end = 0x0b, br = 0x0c, br_if = 0x0d, br_table = 0x0e,
  return_ = 0x0f, call = 0x10, call_indirect = 0x11, return_call = 0x12, return_call_indirect = 0x13,
  drop = 0x1a, select = 0x1b,
  local_get = 0x20, local_set = 0x21, local_tee = 0x22, global_get = 0x23, global_set = 0x24,
  i32_load = 0x28, i64_load = 0x29, i32_load8_u = 0x2d, i32_load16_u = 0x2f,
  i32_store = 0x36, i64_store = 0x37, i32_store8 = 0x3a, i32_store16 = 0x3b,
  i32_const = 0x41, i64_const = 0x42,
  i32_eqz = 0x45, i32_eq, i32_ne, i32_lt_s, i32_lt_u, i32_gt_s, i32_gt_u, i32_le_s, i32_le_u, i32_ge_s, i32_ge_u,
  i64_eqz = 0x50, i64_eq, i64_ne, i64_lt_s, i64_lt_u, i64_gt_s, i64_gt_u, i64_le_s, i64_le_u, i64_ge_s, i64_ge_u,
  i32_clz = 0x67, i32_ctz, i32_popcnt, i32_add, i32_sub, i32_mul, i32_div_s, i32_div_u, i32_rem_s, i32_rem_u,
  i32_and, i32_or, i32_xor, i32_shl, i32_shr_s, i32_shr_u, i32_rotl, i32_rotr,
  i64_clz = 0x79, i64_ctz, i64_popcnt, i64_add, i64_sub, i64_mul, i64_div_s, i64_div_u, i64_rem_s, i64_rem_u,
  i64_and, i64_or, i64_xor, i64_shl, i64_shr_s, i64_shr_u, i64_rotl, i64_rotr,
  i32_wrap_i64 = 0xa7, i64_extend_i32_s = 0xac, i64_extend_i32_u = 0xad,
  i32_extend8_s = 0xc0, i32_extend16_s = 0xc1,
}

const utf8 = new TextEncoder();
const MAGIC = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** A growable byte buffer with LEB128 writers. */
export class Bytes {
  buf: Uint8Array;
  len = 0;

  /** `capacity`: initial size, or a buffer to start writing into (it is not copied; growing replaces it). */
  constructor(capacity: number | Uint8Array = 256) {
    this.buf = typeof capacity === 'number' ? new Uint8Array(Math.max(capacity, 16)) : capacity;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  byte(b: number): this {
    this.room(1);
    this.buf[this.len++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  u32(v: number): this {
    this.room(10);
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of an int32. */
  s32(v: number): this {
    this.room(5);
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
        this.buf[this.len++] = b;
        return this;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }

  /** Signed LEB128 of the int64 hi:lo (two int32 halves). */
  s64(lo: number, hi: number): this {
    this.room(10);
    lo |= 0;
    hi |= 0;
    for (;;) {
      const b = lo & 0x7f;
      lo = (lo >>> 7) | (hi << 25);
      hi >>= 7;
      if ((hi === 0 && lo === 0 && !(b & 0x40)) || (hi === -1 && lo === -1 && b & 0x40)) {
        this.buf[this.len++] = b;
        return this;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }

  name(s: string): this {
    const b = utf8.encode(s);
    this.u32(b.length);
    return this.bytes(b);
  }

  /** Empties the buffer (keeping its storage) for reuse. */
  clear(): this {
    this.len = 0;
    return this;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

// ModuleBuilder.finish's buffers, reused from module to module (the result is copied out)
const OUT = new Bytes(1 << 16);
const SECTION = new Bytes(1 << 16);
const PART = new Bytes(1 << 12);

/** Function body emitter: instructions with their immediates. */
export class Code extends Bytes {
  op(o: number): this {
    return this.byte(o);
  }
  i32(v: number): this {
    return this.byte(W.i32_const).s32(v);
  }
  i64(lo: number, hi: number): this {
    return this.byte(W.i64_const).s64(lo, hi);
  }
  get(l: number): this {
    return this.byte(W.local_get).u32(l);
  }
  set(l: number): this {
    return this.byte(W.local_set).u32(l);
  }
  tee(l: number): this {
    return this.byte(W.local_tee).u32(l);
  }
  /** A load or store with its memarg: alignment exponent and constant offset. */
  mem(o: number, align: number, offset: number): this {
    return this.byte(o).u32(align).u32(offset);
  }
  /** A 0xfd-prefixed SIMD instruction (opcode as u32 LEB). */
  simd(o: number): this {
    return this.byte(0xfd).u32(o);
  }
}

interface FuncType {
  params: Ty[];
  results: Ty[];
}

interface Import {
  module: string;
  name: string;
  /** 0 function (type index in `type`), 1 table (funcref), 2 memory, 3 global. */
  kind: 0 | 1 | 2 | 3;
  type: number;
  mutable?: boolean;
}

interface Func {
  type: number;
  /** Local declarations after the parameters: runs of (count, type). */
  locals: [number, Ty][];
  body: Uint8Array;
  /** Branch hints: pairs (offset in body of an `if` or `br_if`, 1 likely / 0 unlikely), in increasing offset. */
  hints?: number[];
}

/** Assembles a module. Function indices: imported functions first, then defined functions, in order of addition. */
export class ModuleBuilder {
  private types: FuncType[] = [];
  private typeKeys = new Map<string, number>();
  private imports: Import[] = [];
  private importedFuncs = 0;
  private funcs: Func[] = [];
  private exports: { name: string; func: number }[] = [];

  type(params: Ty[], results: Ty[]): number {
    const key = `${params.join(',')}:${results.join(',')}`;
    let i = this.typeKeys.get(key);
    if (i === undefined) {
      i = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, i);
    }
    return i;
  }

  /** Imports a function; returns its function index. All imports must come before the first defined function. */
  importFunc(module: string, name: string, params: Ty[], results: Ty[]): number {
    if (this.funcs.length) throw new Error('imports must precede defined functions');
    this.imports.push({ module, name, kind: 0, type: this.type(params, results) });
    return this.importedFuncs++;
  }

  /** Imports a funcref table (table index 0: the only table). */
  importTable(module: string, name: string): void {
    this.imports.push({ module, name, kind: 1, type: 0 });
  }

  importMemory(module: string, name: string): void {
    this.imports.push({ module, name, kind: 2, type: 0 });
  }

  /** Imports a global of type `ty`; returns its global index (imported globals must precede defined ones). */
  importGlobal(module: string, name: string, ty: Ty, mutable: boolean): number {
    if (this.globals.length) throw new Error('imported globals must precede defined ones');
    const n = this.imports.filter((i) => i.kind === 3).length;
    this.imports.push({ module, name, kind: 3, type: ty, mutable });
    return n;
  }

  get funcImports(): number {
    return this.importedFuncs;
  }

  /** Adds a function; returns its function index. */
  func(type: number, locals: [number, Ty][], body: Uint8Array, hints?: number[]): number {
    this.funcs.push({ type, locals, body, hints });
    return this.importedFuncs + this.funcs.length - 1;
  }

  private globals: { ty: Ty; mutable: boolean; lo: number; hi: number }[] = [];

  /** Defines a global initialised to the constant hi:lo (i64) or lo (i32); returns its index (after the imported ones). */
  global(ty: Ty.I32 | Ty.I64, mutable: boolean, lo: number, hi = 0): number {
    this.globals.push({ ty, mutable, lo, hi });
    return this.imports.filter((i) => i.kind === 3).length + this.globals.length - 1;
  }

  export(name: string, func: number): void {
    this.exports.push({ name, func });
  }

  private readonly names: [number, string][] = [];

  /** Names a function in the module's name section (profilers and stack traces show it). */
  name(func: number, name: string): void {
    this.names.push([func, name]);
  }

  finish(): Uint8Array {
    const out = OUT.clear().bytes(MAGIC);
    const section = (id: number, fill: (s: Bytes) => void) => {
      const s = SECTION.clear();
      fill(s);
      out.byte(id).u32(s.len).bytes(s.view());
    };
    section(1, (s) => {
      s.u32(this.types.length);
      for (const t of this.types) {
        s.byte(0x60).u32(t.params.length);
        for (const p of t.params) s.byte(p);
        s.u32(t.results.length);
        for (const r of t.results) s.byte(r);
      }
    });
    if (this.imports.length) {
      section(2, (s) => {
        s.u32(this.imports.length);
        for (const im of this.imports) {
          s.name(im.module).name(im.name).byte(im.kind);
          if (im.kind === 0) s.u32(im.type);
          else if (im.kind === 1) s.byte(0x70).byte(0x00).u32(0); // funcref, limits: min 0, no maximum
          else if (im.kind === 2) s.byte(0x00).u32(0); // limits: min 0, no maximum
          else s.byte(im.type).byte(im.mutable ? 1 : 0);
        }
      });
    }
    section(3, (s) => {
      s.u32(this.funcs.length);
      for (const f of this.funcs) s.u32(f.type);
    });
    if (this.globals.length) {
      section(6, (s) => {
        s.u32(this.globals.length);
        for (const g of this.globals) {
          s.byte(g.ty).byte(g.mutable ? 1 : 0);
          if (g.ty === Ty.I64) s.byte(W.i64_const).s64(g.lo, g.hi);
          else s.byte(W.i32_const).s32(g.lo);
          s.byte(W.end);
        }
      });
    }
    section(7, (s) => {
      s.u32(this.exports.length);
      for (const e of this.exports) s.name(e.name).byte(0x00).u32(e.func);
    });
    const localsPart = (f: Func) => {
      const b = PART.clear().u32(f.locals.length);
      for (const [n, t] of f.locals) b.u32(n).byte(t);
      return b;
    };
    // Branch hints (the branch-hinting proposal; V8 reads them with --experimental-wasm-branch-hinting, else it
    // skips the custom section): TurboFan moves unlikely code out of line and keeps its spills there.
    const hinted = this.funcs.filter((f) => f.hints?.length).length;
    if (hinted) {
      section(0, (s) => {
        s.name('metadata.code.branch_hint').u32(hinted);
        this.funcs.forEach((f, i) => {
          if (!f.hints?.length) return;
          const at = localsPart(f).len; // offsets count from the start of the function body, its locals included
          s.u32(this.importedFuncs + i).u32(f.hints.length / 2);
          for (let k = 0; k < f.hints.length; k += 2) s.u32(at + f.hints[k]!).u32(1).byte(f.hints[k + 1]!);
        });
      });
    }
    section(10, (s) => {
      s.u32(this.funcs.length);
      for (const f of this.funcs) {
        const b = localsPart(f);
        s.u32(b.len + f.body.length).bytes(b.view()).bytes(f.body);
      }
    });
    if (this.names.length) {
      section(0, (s) => {
        s.name('name');
        const sub = PART.clear().u32(this.names.length);
        for (const [f, n] of this.names) sub.u32(f).name(n);
        s.byte(1).u32(sub.len).bytes(sub.view());
      });
    }
    return out.view().slice();
  }
}
