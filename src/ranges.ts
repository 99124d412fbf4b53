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

/** Order of two biased 128-bit values given as words. */
export function compare6(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): number {
  if (a0 !== b0) return a0 < b0 ? -1 : 1
  if (a1 !== b1) return a1 < b1 ? -1 : 1
  if (a2 !== b2) return a2 < b2 ? -1 : 1
  return a3 === b3 ? 0 : a3 < b3 ? -1 : 1
}

/**
 * The ranges of a list, as they are compiled: flat arrays of numbers, one slot per range, each
 * range tagged with the entry (`owner`) it came from, and each family's ranges sorted once (by
 * start, the widest of equal starts first, then in list order). The overlap warnings and the
 * {@link RangeSet} read the same sorted order.
 *
 * Why flat arrays and key sorts: a 10,000-entry list is compiled once, cold, at startup, where the
 * code still runs in the interpreter. An object per range and a comparator called per pair cost
 * more than the rest of the parse (and the garbage collector with them); the engine's native sort
 * of a Float64Array of keys runs compiled from the first call.
 */
export class RangeList {
  /** IPv4: network start (unsigned), prefix length, owner. */
  readonly start4: number[] = []
  readonly prefix4: number[] = []
  readonly owner4: number[] = []
  /** IPv6: first and last address (biased words, four per range), owner, zone ('' for none). */
  readonly s6: number[] = []
  readonly e6: number[] = []
  readonly owner6: number[] = []
  readonly zone6: string[] = []
  /** The zoned IPv6 ranges as written, for the set's zone check. */
  readonly zoned: Cidr[] = []
  private sorted4: Int32Array | undefined
  private sorted6: Int32Array | undefined

  add4(v4: number, prefix: number, owner: number): void {
    this.start4.push((v4 & maskBits(prefix)) >>> 0)
    this.prefix4.push(prefix)
    this.owner4.push(owner)
    this.sorted4 = undefined
  }

  add6(w0: number, w1: number, w2: number, w3: number, prefix: number, zone: string, owner: number): void {
    const m0 = maskBits(prefix)
    const m1 = maskBits(prefix - 32)
    const m2 = maskBits(prefix - 64)
    const m3 = maskBits(prefix - 96)
    this.s6.push(bias(w0 & m0), bias(w1 & m1), bias(w2 & m2), bias(w3 & m3))
    this.e6.push(bias(w0 | ~m0), bias(w1 | ~m1), bias(w2 | ~m2), bias(w3 | ~m3))
    this.owner6.push(owner)
    this.zone6.push(zone)
    if (zone !== '') this.zoned.push({ family: 6, v4: 0, w: [w0, w1, w2, w3], prefix, zone })
    this.sorted6 = undefined
  }

  add(c: Cidr, owner: number): void {
    if (c.family === 4) this.add4(c.v4, c.prefix, owner)
    else this.add6(c.w[0], c.w[1], c.w[2], c.w[3], c.prefix, c.zone, owner)
  }

  /** Last address of IPv4 range `k` (unsigned). */
  end4(k: number): number {
    return this.start4[k]! + 2 ** (32 - this.prefix4[k]!) - 1
  }

  /** The IPv4 ranges' indices by start, the widest of equal starts first, then in list order. */
  order4(): Int32Array {
    if (this.sorted4 !== undefined) return this.sorted4
    const n = this.start4.length
    const order = new Int32Array(n)
    if (n <= 1 << 15) {
      // start * 64 + prefix is below 2^38; times 2^15 plus the index stays exact below 2^53.
      const keys = new Float64Array(n)
      for (let k = 0; k < n; k++) keys[k] = (this.start4[k]! * 64 + this.prefix4[k]!) * 32768 + k
      keys.sort()
      for (let k = 0; k < n; k++) order[k] = keys[k]! % 32768
    } else {
      const idx = Array.from({ length: n }, (_, k) => k)
      idx.sort((a, b) => this.start4[a]! - this.start4[b]! || this.prefix4[a]! - this.prefix4[b]! || a - b)
      order.set(idx)
    }
    return (this.sorted4 = order)
  }

  /** The IPv6 ranges' indices in the same order as {@link order4}'s. */
  order6(): Int32Array {
    if (this.sorted6 !== undefined) return this.sorted6
    const n = this.owner6.length
    const s = this.s6
    const order = new Int32Array(n)
    const cmp = (a: number, b: number): number => this.compareAt6(a, b)
    if (n <= 1 << 16) {
      // Sorted natively by the top word and the index (exact below 2^53), then each run of equal
      // top words (short in real lists) by the full comparison.
      const keys = new Float64Array(n)
      for (let k = 0; k < n; k++) keys[k] = ((s[k * 4]! ^ 0x80000000) >>> 0) * 65536 + k
      keys.sort()
      for (let k = 0; k < n; k++) order[k] = keys[k]! % 65536
      for (let a = 0; a < n; ) {
        const top = s[order[a]! * 4]!
        let b = a + 1
        while (b < n && s[order[b]! * 4] === top) b++
        if (b - a > 16) order.set(Array.from(order.subarray(a, b)).sort(cmp), a)
        else {
          for (let i = a + 1; i < b; i++) {
            const x = order[i]!
            let j = i - 1
            while (j >= a && cmp(order[j]!, x) > 0) {
              order[j + 1] = order[j]!
              j--
            }
            order[j + 1] = x
          }
        }
        a = b
      }
    } else {
      order.set(Array.from({ length: n }, (_, k) => k).sort(cmp))
    }
    return (this.sorted6 = order)
  }

  /** IPv6 ranges `a` and `b` by start, the wider first, then in list order. */
  private compareAt6(a: number, b: number): number {
    const s = this.s6
    const e = this.e6
    const i = a * 4
    const j = b * 4
    return (
      compare6(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]!, s[j]!, s[j + 1]!, s[j + 2]!, s[j + 3]!) ||
      compare6(e[j]!, e[j + 1]!, e[j + 2]!, e[j + 3]!, e[i]!, e[i + 1]!, e[i + 2]!, e[i + 3]!) ||
      a - b
    )
  }
}

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
    const s4 = new Int32Array(o4.length)
    const e4 = new Int32Array(o4.length)
    let n = 0
    let lastEnd = -1
    for (let k = 0; k < o4.length; k++) {
      const r = o4[k]!
      const start = list.start4[r]!
      const end = list.end4(r)
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

function cidrBig(c: Cidr): [bigint, bigint] {
  const bits = c.family === 4 ? 32 : 128
  let v = 0n
  if (c.family === 4) v = BigInt(c.v4 >>> 0)
  else for (const w of c.w) v = (v << 32n) | BigInt(w >>> 0)
  const size = 1n << BigInt(bits - c.prefix)
  const start = (v / size) * size
  return [start, start + size - 1n]
}
