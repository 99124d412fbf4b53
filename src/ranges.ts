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
 */

/** One range in numeric form. IPv6 values are four 32-bit words, most significant first. */
export interface Cidr {
  family: 4 | 6
  /** IPv4 network value (family 4). */
  v4: number
  /** IPv6 network words (family 6). */
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

/** The start and end of an IPv6 CIDR as 4+4 words. */
function bounds6(c: Cidr, start: Uint32Array, end: Uint32Array, at: number): void {
  for (let k = 0; k < 4; k++) {
    const m = maskBits(c.prefix - k * 32)
    start[at + k] = (c.w[k]! & m) >>> 0
    end[at + k] = (c.w[k]! | ~m) >>> 0
  }
}

function cmp6(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ai + k]!
    const y = b[bi + k]!
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/** Adds one to a 128-bit value in place; returns false on overflow. */
function inc6(a: Uint32Array, ai: number): boolean {
  for (let k = 3; k >= 0; k--) {
    const v = (a[ai + k]! + 1) >>> 0
    a[ai + k] = v
    if (v !== 0) return true
  }
  return false
}

/** Below this many intervals a linear scan beats a binary search. */
const LINEAR_MAX = 8

/** A compiled set of CIDRs: sorted disjoint intervals per family, and zoned link-local ranges. */
export class RangeSet {
  /** IPv4 interval starts and ends, sorted, disjoint and not adjacent. */
  private readonly s4: Float64Array
  private readonly e4: Float64Array
  /** IPv6 interval starts and ends, four words each. */
  private readonly s6: Uint32Array
  private readonly e6: Uint32Array
  private readonly n6: number
  /** Zoned ranges, checked only for an address that carries a zone. */
  private readonly zoned: readonly Cidr[]
  private readonly probe = new Uint32Array(4)

  constructor(cidrs: readonly Cidr[]) {
    const v4: [number, number][] = []
    const v6: Cidr[] = []
    const zoned: Cidr[] = []
    for (const c of cidrs) {
      if (c.family === 4) {
        const m = maskBits(c.prefix)
        const start = (c.v4 & m) >>> 0
        v4.push([start, (start | ~m) >>> 0])
      } else if (c.zone !== '') {
        zoned.push(c)
      } else {
        v6.push(c)
      }
    }
    // IPv4: sort by start, merge overlapping or adjacent intervals.
    v4.sort((a, b) => a[0] - b[0] || b[1] - a[1])
    const s4: number[] = []
    const e4: number[] = []
    for (const [s, e] of v4) {
      const last = e4.length - 1
      if (last >= 0 && s <= e4[last]! + 1) {
        if (e > e4[last]!) e4[last] = e
      } else {
        s4.push(s)
        e4.push(e)
      }
    }
    this.s4 = Float64Array.from(s4)
    this.e4 = Float64Array.from(e4)

    // IPv6: the same, on 128-bit values.
    const rawS = new Uint32Array(v6.length * 4)
    const rawE = new Uint32Array(v6.length * 4)
    v6.forEach((c, k) => bounds6(c, rawS, rawE, k * 4))
    const order = v6.map((_, k) => k)
    order.sort((a, b) => cmp6(rawS, a * 4, rawS, b * 4) || cmp6(rawE, b * 4, rawE, a * 4))
    const s6 = new Uint32Array(v6.length * 4)
    const e6 = new Uint32Array(v6.length * 4)
    const next = new Uint32Array(4)
    let n = 0
    for (const k of order) {
      if (n > 0) {
        // Merge when this interval starts at or before (last end + 1).
        next.set(e6.subarray((n - 1) * 4, n * 4))
        const overflow = !inc6(next, 0)
        if (overflow || cmp6(rawS, k * 4, next, 0) <= 0) {
          if (cmp6(rawE, k * 4, e6, (n - 1) * 4) > 0) e6.set(rawE.subarray(k * 4, k * 4 + 4), (n - 1) * 4)
          continue
        }
      }
      s6.set(rawS.subarray(k * 4, k * 4 + 4), n * 4)
      e6.set(rawE.subarray(k * 4, k * 4 + 4), n * 4)
      n++
    }
    this.s6 = s6.slice(0, n * 4)
    this.e6 = e6.slice(0, n * 4)
    this.n6 = n
    this.zoned = zoned
  }

  /** Number of disjoint intervals after merging (for diagnostics and benchmarks). */
  get size(): number {
    return this.s4.length + this.n6 + this.zoned.length
  }

  /** True when the IPv4 value (unsigned 32-bit) is in the set. */
  has4(v: number): boolean {
    const s = this.s4
    const e = this.e4
    const n = s.length
    if (n <= LINEAR_MAX) {
      for (let k = 0; k < n; k++) if (v >= s[k]! && v <= e[k]!) return true
      return false
    }
    // Last interval whose start is <= v.
    let lo = 0
    let hi = n - 1
    if (v < s[0]!) return false
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (s[mid]! <= v) lo = mid
      else hi = mid - 1
    }
    return v <= e[lo]!
  }

  /**
   * True when the IPv6 address (four words, and its zone text or '' for none) is in the set.
   * A zoned range matches only the same zone; a range without a zone matches any zone.
   */
  has6(w0: number, w1: number, w2: number, w3: number, zone: string): boolean {
    const n = this.n6
    if (n > 0) {
      const p = this.probe
      p[0] = w0
      p[1] = w1
      p[2] = w2
      p[3] = w3
      const s = this.s6
      const e = this.e6
      if (n <= LINEAR_MAX) {
        for (let k = 0; k < n; k++) {
          if (cmp6(s, k * 4, p, 0) <= 0 && cmp6(p, 0, e, k * 4) <= 0) return true
        }
      } else if (cmp6(s, 0, p, 0) <= 0) {
        let lo = 0
        let hi = n - 1
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1
          if (cmp6(s, mid * 4, p, 0) <= 0) lo = mid
          else hi = mid - 1
        }
        if (cmp6(p, 0, e, lo * 4) <= 0) return true
      }
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

/** True when CIDR `inner` lies inside CIDR `outer` (same family; zones must agree). */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.family !== outer.family || inner.prefix < outer.prefix) return false
  if (outer.zone !== '' && outer.zone !== inner.zone) return false
  if (inner.family === 4) {
    const m = maskBits(outer.prefix)
    return ((inner.v4 & m) >>> 0) === ((outer.v4 & m) >>> 0)
  }
  return inCidr6(outer, inner.w[0], inner.w[1], inner.w[2], inner.w[3])
}
