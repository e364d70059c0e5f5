// 64-bit values as pairs of int32 words (low, high), the way the state block, the TLB and the IR hold them:
// arithmetic on the words avoids a BigInt per address.

/** The unsigned 64-bit value of the words hi:lo. */
export const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/**
 * The high word of hi:lo + n for 0 <= n < 2^32 (the low word is (lo + n) | 0): hi, plus the carry out of the low
 * word, wrapping at 2^64.
 */
export const carryHi = (lo: number, hi: number, n: number): number => (hi + ((lo >>> 0) + n > 0xffffffff ? 1 : 0)) | 0;
