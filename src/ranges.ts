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

/**
 * The first and last address of an IPv6 CIDR as biased words (signed order = unsigned order),
 * most significant first. Plain numbers, not BigInt: a 10,000-entry list is compiled cold, at
 * startup, where BigInt arithmetic per entry costs more than the rest of the parse.
 */
export interface Span6 {
  s0: number
  s1: number
  s2: number
  s3: number
  e0: number
  e1: number
  e2: number
  e3: number
}

export function span6(c: Cidr): Span6 {
  const m0 = maskBits(c.prefix)
  const m1 = maskBits(c.prefix - 32)
  const m2 = maskBits(c.prefix - 64)
  const m3 = maskBits(c.prefix - 96)
  const [w0, w1, w2, w3] = c.w
  return {
    s0: bias(w0 & m0),
    s1: bias(w1 & m1),
    s2: bias(w2 & m2),
    s3: bias(w3 & m3),
    e0: bias(w0 | ~m0),
    e1: bias(w1 | ~m1),
    e2: bias(w2 | ~m2),
    e3: bias(w3 | ~m3),
  }
}

/** Order of two biased 128-bit values given as words. */
export function compare6(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): number {
  if (a0 !== b0) return a0 < b0 ? -1 : 1
  if (a1 !== b1) return a1 < b1 ? -1 : 1
  if (a2 !== b2) return a2 < b2 ? -1 : 1
  return a3 === b3 ? 0 : a3 < b3 ? -1 : 1
}

/** Spans by start, the widest of equal starts first. */
export function byStart6(a: Span6, b: Span6): number {
  return compare6(a.s0, a.s1, a.s2, a.s3, b.s0, b.s1, b.s2, b.s3) || compare6(b.e0, b.e1, b.e2, b.e3, a.e0, a.e1, a.e2, a.e3)
}

/** Whether `b` starts inside `a` or right after its end (so the two join into one interval). */
export function joins6(a: Span6, b: Span6): boolean {
  if (compare6(b.s0, b.s1, b.s2, b.s3, a.e0, a.e1, a.e2, a.e3) <= 0) return true
  // b's start is a's end + 1: add one to a's end, carrying through the (unbiased) words.
  let carry = 1
  const next = [a.e3, a.e2, a.e1, a.e0].map((w) => {
    const v = ((w ^ 0x80000000) >>> 0) + carry
    carry = v > 0xffffffff ? 1 : 0
    return bias(v)
  })
  return carry === 0 && compare6(b.s0, b.s1, b.s2, b.s3, next[3]!, next[2]!, next[1]!, next[0]!) === 0
}

/** Whether the span ends at the last IPv6 address. */
export function endsAtTop6(a: Span6): boolean {
  return a.e0 === 0x7fffffff && a.e1 === 0x7fffffff && a.e2 === 0x7fffffff && a.e3 === 0x7fffffff
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

/** Sorted, merged intervals (overlapping or adjacent ones joined). */
function merge6(spans: Span6[]): Span6[] {
  spans.sort(byStart6)
  const out: Span6[] = []
  for (let k = 0; k < spans.length; k++) {
    const span = spans[k]!
    const last = out[out.length - 1]
    if (last === undefined || !joins6(last, span)) {
      out.push({ ...span })
    } else if (compare6(span.e0, span.e1, span.e2, span.e3, last.e0, last.e1, last.e2, last.e3) > 0) {
      last.e0 = span.e0
      last.e1 = span.e1
      last.e2 = span.e2
      last.e3 = span.e3
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
    const v6: Span6[] = []
    const zoned: Cidr[] = []
    for (let k = 0; k < cidrs.length; k++) {
      const c = cidrs[k]!
      if (c.family === 4) v4.push(((c.v4 & maskBits(c.prefix)) >>> 0) * 64 + c.prefix)
      else if (c.zone !== '') zoned.push(c)
      else v6.push(span6(c))
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
    const m6 = merge6(v6)
    const s6 = (this.s6 = new Int32Array(m6.length * 4))
    const e6 = (this.e6 = new Int32Array(m6.length * 4))
    for (let k = 0; k < m6.length; k++) {
      const m = m6[k]!
      s6.set([m.s0, m.s1, m.s2, m.s3], k * 4)
      e6.set([m.e0, m.e1, m.e2, m.e3], k * 4)
    }
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
