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
 * entry as written per owner index of a {@link RangeList}, and whether it holds several ranges.
 */
export interface Owners {
  readonly written: readonly string[]
  readonly multi: readonly boolean[]
}

/**
 * Nested entries and trust-all, from the list's ranges in sorted order (one pass per family) and
 * the set they compile to.
 *
 * CIDR blocks are either nested or disjoint: sorted by start (widest first), a block is nested
 * when it starts inside the widest block seen so far. (A zoned range is nested only in a range
 * of the same zone or of none.) One warning per pair of entries, even when both hold IPv4 and
 * IPv6 ranges (uniquelocal in private): only an entry with several ranges can meet the same
 * outer entry twice, so only those pairs are remembered.
 */
export function collectOverlapWarnings(list: RangeList, owners: Owners, set: RangeSet, warnings: Warnings): void {
  const reported = new Set<number>()
  const n = owners.written.length
  const nested = (item: number, outer: number): void => {
    if (item === outer) return
    if (owners.multi[item]) {
      const pair = item * n + outer
      if (reported.has(pair)) return
      reported.add(pair)
    }
    if (warnings.take('nested')) {
      const entry = owners.written[item]!
      warnings.push('nested', entry, `"${entry}" is already covered by "${owners.written[outer]!}"`)
    }
  }
  const o4 = list.order4()
  let outer = -1
  let outerEnd = -1
  for (let k = 0; k < o4.length; k++) {
    const r = o4[k]!
    if (outer < 0 || list.start4[r]! > outerEnd) {
      outer = r
      outerEnd = list.end4(r)
    } else nested(list.owner4[r]!, list.owner4[outer]!)
  }
  const o6 = list.order6()
  const s = list.s6
  const e = list.e6
  outer = -1
  for (let k = 0; k < o6.length; k++) {
    const r = o6[k]!
    const i = r * 4
    const j = outer * 4
    const zone = list.zone6[outer]
    const inside =
      outer >= 0 &&
      compare6(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]!, e[j]!, e[j + 1]!, e[j + 2]!, e[j + 3]!) <= 0 &&
      (zone === '' || zone === list.zone6[r])
    if (!inside) outer = r
    else nested(list.owner6[r]!, list.owner6[outer]!)
  }
  // Trust-all however it is written: 0.0.0.0/0, or 0.0.0.0/1 and 128.0.0.0/1, or a provider list
  // that happens to add up.
  if (set.coversAllIPv4()) warnings.add('trust-all', undefined, () => trustAllMessage('IPv4', '0.0.0.0/0'))
  if (set.coversAllIPv6()) warnings.add('trust-all', undefined, () => trustAllMessage('IPv6', '::/0'))
}

function trustAllMessage(family: string, all: string): string {
  return `The list trusts every ${family} address (as ${all} does): any client can then forge its IP. Name your proxies instead.`
}
