/**
 * The ranges of a TRUST_PROXY list as they are compiled, before ranges.ts merges them into a
 * RangeSet and policy-warnings.ts looks for nested entries in them.
 */
import { type Cidr, bias, compare6, maskBits } from './range-math.js'

/**
 * The ranges of a list, as they are compiled: flat arrays of numbers, one slot per range, each
 * range tagged with the entry (`owner`) it came from, and each family's ranges sorted once (by
 * start, the widest of equal starts first, an IPv6 range without a zone before the same range
 * with one, then in list order). The overlap warnings and the
 * {@link RangeSet} read the same sorted order.
 *
 * Why flat arrays and key sorts: a 10,000-entry list is compiled once, cold, at startup, where the
 * code still runs in the interpreter. An object per range and a comparator called per pair cost
 * more than the rest of the parse (and the garbage collector with them); the engine's native sort
 * of a Float64Array of keys runs compiled from the first call.
 */
export class RangeList {
  /** IPv4: network start and last address (unsigned), prefix length, owner. */
  readonly start4: number[] = []
  readonly last4: number[] = []
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
    const mask = maskBits(prefix)
    this.start4.push((v4 & mask) >>> 0)
    this.last4.push((v4 | ~mask) >>> 0)
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

  /**
   * IPv6 ranges `a` and `b` by start, the wider first, then (the same range with and without a
   * zone) the unzoned one first, then in list order. The unzoned one first: the nested-entry pass
   * (policy-warnings.ts) takes a range that starts inside the outer one seen last as nested in it
   * only when the outer has no zone or the same, so a zoned outer would hide the unzoned range
   * that covers it (`fe80::1%eth0, fe80::1`).
   */
  private compareAt6(a: number, b: number): number {
    const s = this.s6
    const e = this.e6
    const i = a * 4
    const j = b * 4
    return (
      compare6(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]!, s[j]!, s[j + 1]!, s[j + 2]!, s[j + 3]!) ||
      compare6(e[j]!, e[j + 1]!, e[j + 2]!, e[j + 3]!, e[i]!, e[i + 1]!, e[i + 2]!, e[i + 3]!) ||
      (this.zone6[a] === '' ? 0 : 1) - (this.zone6[b] === '' ? 0 : 1) ||
      a - b
    )
  }
}
