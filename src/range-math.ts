/**
 * Ranges in numeric form, and the arithmetic the range list, the range set and the warnings share:
 * the {@link Cidr} record, prefix masks, 32-bit words biased so that signed order is unsigned order,
 * and the order of 128-bit values given as four such words.
 *
 * Interval bounds are stored as 32-bit words with the sign bit flipped, so that signed integer
 * comparison orders them as unsigned: V8 keeps such values unboxed, and a lookup allocates nothing.
 */

/** One range in numeric form. IPv6 values are four 32-bit words, most significant first. */
export interface Cidr {
  family: 4 | 6
  /** IPv4 network value (family 4), signed or unsigned 32-bit. */
  v4: number
  /** IPv6 network words (family 6), signed or unsigned 32-bit each. */
  w: [number, number, number, number]
  prefix: number
  /** Zone of a link-local IPv6 range; only addresses with the same zone match it. */
  zone: string
}

/** Mask of the top `bits` bits of a 32-bit word (0..32), as an unsigned number. */
export function maskBits(bits: number): number {
  if (bits <= 0) return 0
  if (bits >= 32) return 0xffffffff
  return (0xffffffff << (32 - bits)) >>> 0
}

/** A 32-bit word (signed or unsigned) with its sign bit flipped: signed order = unsigned order. */
export const bias = (w: number): number => (w ^ 0x80000000) | 0

/** Order of two biased 128-bit values given as words. */
export function compare6(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): number {
  if (a0 !== b0) return a0 < b0 ? -1 : 1
  if (a1 !== b1) return a1 < b1 ? -1 : 1
  if (a2 !== b2) return a2 < b2 ? -1 : 1
  return a3 === b3 ? 0 : a3 < b3 ? -1 : 1
}

/** True when the IPv6 words fall in the CIDR (zone not checked). */
export function inCidr6(c: Cidr, w0: number, w1: number, w2: number, w3: number): boolean {
  const w = [w0, w1, w2, w3]
  for (let k = 0; k < 4; k++) {
    const m = maskBits(c.prefix - k * 32)
    if (((w[k]! & m) >>> 0) !== ((c.w[k]! & m) >>> 0)) return false
  }
  return true
}

/** The first and last address of a CIDR as 128-bit integers (IPv4 below 2^32, IPv6 above). */
export function cidrBounds(c: Cidr): [bigint, bigint] {
  const [s, e] = cidrBig(c)
  const offset = c.family === 4 ? 0n : 1n << 32n
  return [s + offset, e + offset]
}

function cidrBig(c: Cidr): [bigint, bigint] {
  const bits = c.family === 4 ? 32 : 128
  let v = 0n
  if (c.family === 4) v = BigInt(c.v4 >>> 0)
  else for (const w of c.w) v = (v << 32n) | BigInt(w >>> 0)
  const size = 1n << BigInt(bits - c.prefix)
  const start = (v / size) * size
  return [start, start + size - 1n]
}
