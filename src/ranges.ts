/**
 * Compiled sets of CIDR ranges, matched in numeric form.
 *
 * proxy-addr checks every trusted range in turn, so a 10,000-entry cloud provider list costs
 * 10,000 comparisons per hop. Here the ranges are merged once, at configuration time, into sorted
 * disjoint intervals, and a hop costs one binary search: the price of a long list is paid at
 * startup, not per request.
 *
 * IPv4 and IPv6 are separate spaces. An IPv4-mapped IPv6 range (inside `::ffff:0:0/96`) is
 * stored as the IPv4 range it maps; any other IPv6 range, however wide, never covers an IPv4
 * address. That is the rule whose absence was proxy-addr's CVE: `::ffff:10.0.0.0/8` once
 * trusted all of IPv4.
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
const bias = (w: number): number => (w ^ 0x80000000) | 0

function cidrBig(c: Cidr): [bigint, bigint] {
  const bits = c.family === 4 ? 32 : 128
  let v = 0n
  if (c.family === 4) v = BigInt(c.v4 >>> 0)
  else for (const w of c.w) v = (v << 32n) | BigInt(w >>> 0)
  const size = 1n << BigInt(bits - c.prefix)
  const start = (v / size) * size
  return [start, start + size - 1n]
}

/** Sorted, merged [start, end] intervals (overlapping or adjacent ones joined). */
function merge(intervals: [bigint, bigint][]): [bigint, bigint][] {
  intervals.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const out: [bigint, bigint][] = []
  for (const [s, e] of intervals) {
    const last = out[out.length - 1]
    if (last !== undefined && s <= last[1] + 1n) {
      if (e > last[1]) last[1] = e
    } else {
      out.push([s, e])
    }
  }
  return out
}

/** Below this many intervals a linear scan beats a binary search. */
const LINEAR_MAX = 8

/** Lexicographic comparison of the biased 128-bit value at `at` with (b0, b1, b2, b3). */
function cmp6(a: Int32Array, at: number, b0: number, b1: number, b2: number, b3: number): number {
  let x = a[at]!
  if (x !== b0) return x < b0 ? -1 : 1
  x = a[at + 1]!
  if (x !== b1) return x < b1 ? -1 : 1
  x = a[at + 2]!
  if (x !== b2) return x < b2 ? -1 : 1
  x = a[at + 3]!
  return x === b3 ? 0 : x < b3 ? -1 : 1
}

/** A compiled set of CIDRs: sorted disjoint intervals per family, and zoned link-local ranges. */
export class RangeSet {
  /** IPv4 interval starts and ends (biased), sorted and disjoint. */
  private readonly s4: Int32Array
  private readonly e4: Int32Array
  /** IPv6 interval starts and ends (biased), four words each. */
  private readonly s6: Int32Array
  private readonly e6: Int32Array
  /** Zoned ranges, checked only for an address that carries a zone. */
  private readonly zoned: readonly Cidr[]

  constructor(cidrs: readonly Cidr[]) {
    // IPv4 ranges as one number each, start * 64 + prefix (exact: below 2^38), so that a long list
    // is sorted by the engine's native numeric sort rather than a comparator called per pair.
    const v4: number[] = []
    const v6: [bigint, bigint][] = []
    const zoned: Cidr[] = []
    for (const c of cidrs) {
      if (c.family === 4) v4.push(((c.v4 & maskBits(c.prefix)) >>> 0) * 64 + c.prefix)
      else if (c.zone !== '') zoned.push(c)
      else v6.push(cidrBig(c))
    }
    const s4: number[] = []
    const e4: number[] = []
    for (const key of Float64Array.from(v4).sort()) {
      const prefix = key % 64
      const start = (key - prefix) / 64
      const end = start + 2 ** (32 - prefix) - 1
      const last = e4.length - 1
      if (last >= 0 && start <= e4[last]! + 1) {
        if (end > e4[last]!) e4[last] = end
      } else {
        s4.push(start)
        e4.push(end)
      }
    }
    this.s4 = Int32Array.from(s4, bias)
    this.e4 = Int32Array.from(e4, bias)
    const m6 = merge(v6)
    this.s6 = new Int32Array(m6.length * 4)
    this.e6 = new Int32Array(m6.length * 4)
    m6.forEach(([s, e], k) => {
      for (let j = 0; j < 4; j++) {
        const shift = BigInt(96 - 32 * j)
        this.s6[k * 4 + j] = bias(Number((s >> shift) & 0xffffffffn))
        this.e6[k * 4 + j] = bias(Number((e >> shift) & 0xffffffffn))
      }
    })
    this.zoned = zoned
  }

  /** Number of disjoint intervals after merging (for diagnostics and benchmarks). */
  get size(): number {
    return this.s4.length + this.s6.length / 4 + this.zoned.length
  }

  /** True when the IPv4 value (32 bits, signed or unsigned) is in the set. */
  has4(v: number): boolean {
    const b = bias(v)
    const s = this.s4
    const e = this.e4
    const n = s.length
    if (n <= LINEAR_MAX) {
      for (let k = 0; k < n; k++) if (b >= s[k]! && b <= e[k]!) return true
      return false
    }
    if (b < s[0]!) return false
    // The last interval whose start is <= b.
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (s[mid]! <= b) lo = mid
      else hi = mid - 1
    }
    return b <= e[lo]!
  }

  /**
   * True when the IPv6 address (four 32-bit words, and its zone text or '' for none) is in the
   * set. A zoned range matches only the same zone; a range without a zone matches any zone.
   */
  has6(w0: number, w1: number, w2: number, w3: number, zone: string): boolean {
    const b0 = bias(w0)
    const b1 = bias(w1)
    const b2 = bias(w2)
    const b3 = bias(w3)
    const s = this.s6
    const e = this.e6
    const n = s.length >> 2
    if (n <= LINEAR_MAX) {
      for (let k = 0; k < n; k++) {
        if (cmp6(s, k * 4, b0, b1, b2, b3) <= 0 && cmp6(e, k * 4, b0, b1, b2, b3) >= 0) return true
      }
    } else if (cmp6(s, 0, b0, b1, b2, b3) <= 0) {
      let lo = 0
      let hi = n - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1
        if (cmp6(s, mid * 4, b0, b1, b2, b3) <= 0) lo = mid
        else hi = mid - 1
      }
      if (cmp6(e, lo * 4, b0, b1, b2, b3) >= 0) return true
    }
    if (zone !== '') {
      for (const c of this.zoned) {
        if (c.zone === zone && inCidr6(c, w0, w1, w2, w3)) return true
      }
    }
    return false
  }
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
