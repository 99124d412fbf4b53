/**
 * The warnings of a range list: accepted, but worth a second look (trust-all however written,
 * duplicates, entries nested in others). Host bits, hop counts and stale presets are noticed
 * where they are parsed and added here.
 */
import type { TrustProxyWarning, TrustProxyWarningCode } from './policy.js'
import type { RangeList } from './range-list.js'
import { compare6 } from './range-math.js'
import type { RangeSet } from './ranges.js'

/** Per-entry warnings shown one by one; past this, one warning says how many more there are. */
const MAX_WARNINGS_PER_CODE = 20

/**
 * Collects warnings. A 10,000-entry cloud list can have thousands of nested or host-bits entries;
 * a list of thousands of warnings helps no one (and building them costs startup time), so each
 * kind is capped and the messages past the cap are never built.
 */
export class Warnings {
  readonly list: TrustProxyWarning[] = []
  private readonly counts = new Map<TrustProxyWarningCode, number>()

  /** Counts one warning of `code`: true when it is within the cap, to be built and {@link push}ed. */
  take(code: TrustProxyWarningCode): boolean {
    const n = (this.counts.get(code) ?? 0) + 1
    this.counts.set(code, n)
    return n <= MAX_WARNINGS_PER_CODE
  }

  push(code: TrustProxyWarningCode, entry: string | undefined, message: string): void {
    this.list.push(entry === undefined ? { code, message } : { code, entry, message })
  }

  add(code: TrustProxyWarningCode, entry: string | undefined, message: () => string): void {
    if (this.take(code)) this.push(code, entry, message())
  }

  done(): TrustProxyWarning[] {
    for (const [code, n] of this.counts) {
      if (n > MAX_WARNINGS_PER_CODE) {
        this.list.push({ code, message: `and ${n - MAX_WARNINGS_PER_CODE} more "${code}" warnings like the ones above` })
      }
    }
    return this.list
  }
}

/**
 * The entries of a list after duplicates are dropped, as the overlap warnings name them: the
 * entry as written per owner index of a {@link RangeList}, and how many ranges it holds.
 */
export interface Owners {
  readonly written: readonly string[]
  readonly rangeCount: readonly number[]
}

/**
 * Nested entries and trust-all, from the list's ranges in sorted order (one pass per family) and
 * the set they compile to.
 *
 * CIDR blocks are either nested or disjoint: sorted by start (widest first), a block is nested
 * when it starts inside the widest block seen so far. (A zoned range is nested only in a range
 * of the same zone or of none.) An entry is "already covered" by another only when every one of
 * its ranges, in both families, is nested in that other entry's: one of private's ranges inside
 * `0.0.0.0/1` does not make private covered. Equal ranges are nested in each other, all of them
 * (the outer range may be several entries' at once: `fc00::/7, uniquelocal, private`), so that
 * `10.0.0.0/8, private` reports the single range as covered by the name, whichever comes first,
 * and two entries with the same ranges report the later one. One warning per pair of entries.
 */
export function collectOverlapWarnings(list: RangeList, owners: Owners, set: RangeSet, warnings: Warnings): void {
  const n = owners.written.length
  // Per (entry, other entry) pair, in the order found: how many of the entry's ranges lie inside
  // one of the other's.
  const inside = new Map<number, number>()
  const note = (item: number, outer: number): void => {
    if (item !== outer) inside.set(item * n + outer, (inside.get(item * n + outer) ?? 0) + 1)
  }
  const o4 = list.order4()
  const { start4, last4, owner4 } = list
  let group: OuterGroup | undefined
  let outerStart = -1
  let outerEnd = -1
  for (let k = 0; k < o4.length; k++) {
    const r = o4[k]!
    const start = start4[r]!
    if (group === undefined || start > outerEnd) {
      group = new OuterGroup(r, owner4[r]!)
      outerStart = start
      outerEnd = last4[r]!
    } else {
      group.add(owner4[r]!, start === outerStart && last4[r] === outerEnd, note)
    }
  }
  // IPv6, zone by zone: a zoned range is nested only in a range of its own zone or of none, so
  // each zone (and no zone) keeps its own outer range, and a zoned range is checked against both.
  // (One outer for all zones would lose `fe80::%eth0/10` at `fe80::%eth1/16`, and miss that
  // `fe80::%eth0/64` after them is inside the first.)
  const o6 = list.order6()
  const s = list.s6
  const e = list.e6
  const inside6 = (r: number, outer: number): boolean => {
    const i = r * 4
    const j = outer * 4
    return compare6(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]!, e[j]!, e[j + 1]!, e[j + 2]!, e[j + 3]!) <= 0
  }
  const equal6 = (r: number, outer: number): boolean => {
    const i = r * 4
    const j = outer * 4
    return (
      compare6(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]!, s[j]!, s[j + 1]!, s[j + 2]!, s[j + 3]!) === 0 &&
      compare6(e[i]!, e[i + 1]!, e[i + 2]!, e[i + 3]!, e[j]!, e[j + 1]!, e[j + 2]!, e[j + 3]!) === 0
    )
  }
  const byZone = new Map<string, OuterGroup>()
  for (let k = 0; k < o6.length; k++) {
    const r = o6[k]!
    const zone = list.zone6[r]!
    const owner = list.owner6[r]!
    // A zoned range inside a range of no zone is inside it (never equal: the zones differ).
    const unzoned = zone === '' ? undefined : byZone.get('')
    if (unzoned !== undefined && inside6(r, unzoned.outer)) unzoned.add(owner, false, note)
    const own = byZone.get(zone)
    if (own !== undefined && inside6(r, own.outer)) own.add(owner, equal6(r, own.outer), note)
    else byZone.set(zone, new OuterGroup(r, owner))
  }
  const count = owners.rangeCount
  const covers = (item: number, outer: number): boolean => (inside.get(item * n + outer) ?? 0) >= count[item]!
  for (const pair of inside.keys()) {
    const item = Math.floor(pair / n)
    const other = pair - item * n
    if (!covers(item, other)) continue
    // The same ranges twice: the earlier entry stands, the later one is the one covered.
    if (item < other && covers(other, item)) continue
    const entry = owners.written[item]!
    warnings.add('nested', entry, () => `"${entry}" is already covered by "${owners.written[other]!}"`)
  }
  // Trust-all however it is written: 0.0.0.0/0, or 0.0.0.0/1 and 128.0.0.0/1, or a provider list
  // that happens to add up.
  if (set.coversAllIPv4()) warnings.add('trust-all', undefined, () => trustAllMessage('IPv4', '0.0.0.0/0'))
  if (set.coversAllIPv6()) warnings.add('trust-all', undefined, () => trustAllMessage('IPv6', '::/0'))
}

function trustAllMessage(family: string, all: string): string {
  return `The list trusts every ${family} address (as ${all} does): any client can then forge its IP. Name your proxies instead.`
}

/**
 * One outer range of the pass over sorted ranges, with the ranges equal to it, by owner:
 * `owners` holds each owner once, `ranges` once per range (its own first). A range inside the
 * outer one is inside each of those owners' ranges; one equal to it also holds every range of the
 * group, counted when its owner joins, so that each range counts once per pair.
 */
class OuterGroup {
  readonly owners: number[]
  readonly ranges: number[]
  constructor(
    readonly outer: number,
    owner: number,
  ) {
    this.owners = [owner]
    this.ranges = [owner]
  }

  /** A range of `owner` inside the outer one (`equal`: the same range); `note(item, outer)` counts one range of item inside outer. */
  add(owner: number, equal: boolean, note: (item: number, outer: number) => void): void {
    for (let g = 0; g < this.owners.length; g++) note(owner, this.owners[g]!)
    if (!equal) return
    if (!this.owners.includes(owner)) {
      for (let g = 0; g < this.ranges.length; g++) note(this.ranges[g]!, owner)
      this.owners.push(owner)
    }
    this.ranges.push(owner)
  }
}
