// Typed arrays the code generator reuses from one block to the next. Compiling a block used ~20 typed arrays of a
// few hundred bytes to 4 KiB; V8 keeps those off its heap, and allocating them (and the GC's accounting of that
// external memory) cost more than the analyses that filled them. Generation can nest (a helper compiled on first
// use while a block is being generated), so each generation takes a set of its own and gives it back.

export class Scratch {
  private readonly i32s: Int32Array[] = [];
  private readonly u8s: Uint8Array[] = [];
  private ni = 0;
  private nu = 0;

  /** The next Int32Array of this generation: `n` elements, all `fill`. */
  i32(n: number, fill = 0): Int32Array {
    let b = this.i32s[this.ni];
    if (!b || b.length < n) b = this.i32s[this.ni] = new Int32Array(Math.max(n, 64, (b?.length ?? 0) * 2));
    this.ni++;
    return b.subarray(0, n).fill(fill);
  }

  /** The next Uint8Array of this generation: `n` zero bytes. */
  u8(n: number): Uint8Array {
    return this.bytes(n).subarray(0, n).fill(0);
  }

  /** The next byte buffer of this generation: at least `n` bytes, contents undefined. */
  bytes(n: number): Uint8Array {
    let b = this.u8s[this.nu];
    if (!b || b.length < n) b = this.u8s[this.nu] = new Uint8Array(Math.max(n, 256, (b?.length ?? 0) * 2));
    this.nu++;
    return b;
  }

  reset(): void {
    this.ni = this.nu = 0;
  }
}

const free: Scratch[] = [];

/** A scratch set for one generation; give it back with releaseScratch when nothing uses its arrays any more. */
export function takeScratch(): Scratch {
  return free.pop() ?? new Scratch();
}

export function releaseScratch(s: Scratch): void {
  s.reset();
  free.push(s);
}
