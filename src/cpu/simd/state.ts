// Typed views over the CPU state block for the SIMD helpers. Helpers address vector registers by byte index into
// the whole WebAssembly memory (stateBase + a layout.ts offset); registers and the scratch vectors are 16-byte
// aligned, so lane k of a register is element (index >> log2(size)) + k of the matching view. The views are
// re-derived when the memory's buffer is replaced (memory growth), never per call.
import type { IrHost } from '../ir/interp.ts';

export class StateViews {
  buf: ArrayBufferLike | null = null;
  u8 : Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  i8 : Int8Array<ArrayBufferLike> = new Int8Array(0);
  u16 : Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  i16 : Int16Array<ArrayBufferLike> = new Int16Array(0);
  u32 : Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  i32 : Int32Array<ArrayBufferLike> = new Int32Array(0);
  f32 : Float32Array<ArrayBufferLike> = new Float32Array(0);
  f64 : Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** Byte index of the state block. */
  base = 0;
}

const V = new StateViews();

/** The views for `h`, with `base` set to its state block. */
export function views(h: IrHost): StateViews {
  const buf = h.u8.buffer;
  if (buf !== V.buf) {
    V.buf = buf;
    V.u8 = new Uint8Array(buf);
    V.i8 = new Int8Array(buf);
    V.u16 = new Uint16Array(buf);
    V.i16 = new Int16Array(buf);
    V.u32 = new Uint32Array(buf);
    V.i32 = new Int32Array(buf);
    V.f32 = new Float32Array(buf);
    V.f64 = new Float64Array(buf);
  }
  V.base = h.stateBase;
  return V;
}

/** A 32-byte scratch vector with the same views, for results computed before they replace an operand. */
export const TMP = (() => {
  const buf = new ArrayBuffer(64);
  return {
    u8: new Uint8Array(buf), i8: new Int8Array(buf), u16: new Uint16Array(buf), i16: new Int16Array(buf),
    u32: new Uint32Array(buf), i32: new Int32Array(buf), f32: new Float32Array(buf), f64: new Float64Array(buf),
  };
})();
