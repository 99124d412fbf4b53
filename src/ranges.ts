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
 * The numeric form (the {@link Cidr} record, masks, biased words) is range-math.ts; the ranges of
 * a list as they are compiled and sorted, range-list.ts.
 */
import { type Cidr, bias, compare6, inCidr6 } from './range-math.js'
import { RangeList } from './range-list.js'

export { type Cidr, cidrBounds, inCidr6, maskBits } from './range-math.js'

/** Whether IPv6 range `b` (biased words at `j`) starts inside the range ending at `a` (at `i`) or right after it. */
function joins6At(e: ArrayLike<number>, i: number, s: ArrayLike<number>, j: number): boolean {
  const c = compare6(s[j]!, s[j + 1]!, s[j + 2]!, s[j + 3]!, e[i]!, e[i + 1]!, e[i + 2]!, e[i + 3]!)
  if (c <= 0) return true
  // b's start is a's end + 1: add one to a's end, carrying through the (unbiased) words.
  let carry = 1
  for (let k = 3; k >= 0; k--) {
    const v = ((e[i + k]! ^ 0x80000000) >>> 0) + carry
    carry = v > 0xffffffff ? 1 : 0
    if (bias(v) !== s[j + k]) return false
  }
  return carry === 0
}

/** The biased words of ::fffe:ffff:ffff and ::1:0:0, the addresses either side of the mapped block. */
const BELOW_MAPPED = [bias(0), bias(0), bias(0xfffe), bias(0xffffffff)] as const
const ABOVE_MAPPED = [bias(0), bias(0), bias(0x10000), bias(0)] as const
const BOTTOM = bias(0)
const TOP = bias(0xffffffff)

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

  /** The set of `ranges`: CIDRs, or a list being compiled (whose sorted order is reused). */
  constructor(ranges: readonly Cidr[] | RangeList) {
    let list: RangeList
    if (ranges instanceof RangeList) list = ranges
    else {
      list = new RangeList()
      for (let k = 0; k < ranges.length; k++) list.add(ranges[k]!, k)
    }
    // IPv4: sorted by start, so each range either extends the last interval or starts a new one.
    const o4 = list.order4()
    const { start4, last4 } = list
    const s4 = new Int32Array(o4.length)
    const e4 = new Int32Array(o4.length)
    let n = 0
    let lastEnd = -1
    for (let k = 0; k < o4.length; k++) {
      const r = o4[k]!
      const start = start4[r]!
      const end = last4[r]!
      if (n > 0 && start <= lastEnd + 1) {
        if (end > lastEnd) e4[n - 1] = bias((lastEnd = end))
      } else {
        s4[n] = bias(start)
        e4[n++] = bias((lastEnd = end))
      }
    }
    this.s4 = s4.slice(0, n)
    this.e4 = e4.slice(0, n)
    // IPv6 the same way, four words per bound; zoned ranges are kept apart.
    const o6 = list.order6()
    const ls = list.s6
    const le = list.e6
    const s6 = new Int32Array(o6.length * 4)
    const e6 = new Int32Array(o6.length * 4)
    n = 0
    for (let k = 0; k < o6.length; k++) {
      const r = o6[k]!
      if (list.zone6[r] !== '') continue
      const j = r * 4
      const i = (n - 1) * 4
      if (n > 0 && joins6At(e6, i, ls, j)) {
        if (compare6(le[j]!, le[j + 1]!, le[j + 2]!, le[j + 3]!, e6[i]!, e6[i + 1]!, e6[i + 2]!, e6[i + 3]!) > 0) {
          e6[i] = le[j]!
          e6[i + 1] = le[j + 1]!
          e6[i + 2] = le[j + 2]!
          e6[i + 3] = le[j + 3]!
        }
      } else {
        const at = n++ * 4
        for (let w = 0; w < 4; w++) {
          s6[at + w] = ls[j + w]!
          e6[at + w] = le[j + w]!
        }
      }
    }
    this.s6 = s6.slice(0, n * 4)
    this.e6 = e6.slice(0, n * 4)
    this.zoned = list.zoned
  }

  /** Number of disjoint intervals after merging (for diagnostics and benchmarks). */
  get size(): number {
    return this.s4.length + this.s6.length / 4 + this.zoned.length
  }

  /** @internal Whether the set holds every IPv4 address (a list that adds up to 0.0.0.0/0). */
  coversAllIPv4(): boolean {
    return this.s4.length === 1 && this.s4[0] === BOTTOM && this.e4[0] === TOP
  }

  /**
   * @internal Whether the set (zoned ranges aside) holds every IPv6 address but, possibly, the
   * mapped block ::ffff:0:0/96, whose addresses are IPv4 hosts matched as IPv4. The intervals are
   * disjoint and never adjacent, so that is one interval from :: to the top, or two with the gap
   * between them inside the mapped block.
   */
  coversAllIPv6(): boolean {
    const s = this.s6
    const e = this.e6
    const n = s.length >> 2
    if (n < 1 || n > 2 || cmp6(s, 0, BOTTOM, BOTTOM, BOTTOM, BOTTOM) !== 0) return false
    const last = (n - 1) * 4
    if (cmp6(e, last, TOP, TOP, TOP, TOP) !== 0) return false
    return n === 1 || (cmp6(e, 0, ...BELOW_MAPPED) >= 0 && cmp6(s, 4, ...ABOVE_MAPPED) <= 0)
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
    return search4(s, e, b)
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

/**
 * The binary search of {@link RangeSet.has4} for a long list (`b` biased), apart so that the
 * short lists' scan stays small enough for V8 to inline into the walk.
 */
function search4(s: Int32Array, e: Int32Array, b: number): boolean {
  if (b < s[0]!) return false
  // The last interval whose start is <= b.
  let lo = 0
  let hi = s.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (s[mid]! <= b) lo = mid
    else hi = mid - 1
  }
  return b <= e[lo]!
}
