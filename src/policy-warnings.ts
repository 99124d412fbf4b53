/**
 * The warnings of a range list: accepted, but worth a second look (trust-all however written,
 * duplicates, entries nested in others). Host bits, hop counts and stale presets are noticed
 * where they are parsed and added here.
 */
import type { TrustProxyWarning, TrustProxyWarningCode } from './policy.js'
import { type Cidr, cidrBounds, maskBits } from './ranges.js'

/** One entry of a list as parsed: its canonical text and ranges, as written and where. */
export interface ParsedEntry {
  text: string
  cidrs: Cidr[]
  /** The entry as written and where, for warnings. */
  entry: string
  position: number
}

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

  add(code: TrustProxyWarningCode, entry: string | undefined, message: () => string): void {
    const n = (this.counts.get(code) ?? 0) + 1
    this.counts.set(code, n)
    if (n <= MAX_WARNINGS_PER_CODE) this.list.push(entry === undefined ? { code, message: message() } : { code, entry, message: message() })
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
 * The entries without exact repeats (after normalising: `10.0.0.1/8` repeats `10.0.0.0/8`), each
 * repeat warned. The canonical form lists an entry once, so that it parses back without warnings.
 */
export function dropDuplicates(parsed: ParsedEntry[], warnings: Warnings): ParsedEntry[] {
  const seen = new Map<string, ParsedEntry>()
  return parsed.filter((p) => {
    const prev = seen.get(p.text)
    if (prev === undefined) {
      seen.set(p.text, p)
      return true
    }
    warnings.add('duplicate', p.entry, () => `"${p.entry}" repeats "${prev.entry}"`)
    return false
  })
}

export function collectOverlapWarnings(parsed: ParsedEntry[], warnings: Warnings): void {
  const v4: Span<number>[] = []
  const v6: Span<bigint>[] = []
  for (const p of parsed) {
    for (const c of p.cidrs) {
      if (c.family === 4) {
        const start = (c.v4 & maskBits(c.prefix)) >>> 0
        v4.push({ p, start, end: start + 2 ** (32 - c.prefix) - 1, zone: '' })
      } else {
        const [start, end] = cidrBounds(c)
        v6.push({ p, start, end, zone: c.zone })
      }
    }
  }
  // One warning per pair of entries, even when both hold IPv4 and IPv6 ranges (uniquelocal in private).
  const reported = new Set<string>()
  nestedWarnings(v4, warnings, reported)
  nestedWarnings(v6, warnings, reported)
  // Trust-all however it is written: 0.0.0.0/0, or 0.0.0.0/1 and 128.0.0.0/1, or a provider list
  // that happens to add up. (The spans are sorted by start now.)
  if (coversFamily(v4, 0n, 0xffffffffn, undefined)) warnings.add('trust-all', undefined, () => trustAllMessage('IPv4', '0.0.0.0/0'))
  // IPv6 addresses inside ::ffff:0:0/96 are IPv4 hosts, matched as IPv4: the IPv6 space is
  // whole without that block.
  if (coversFamily(v6, V6_FIRST, V6_FIRST + (1n << 128n) - 1n, MAPPED_BLOCK)) warnings.add('trust-all', undefined, () => trustAllMessage('IPv6', '::/0'))
}

/** The IPv6 space as {@link cidrBounds} numbers it (above the IPv4 space), and its mapped block. */
const V6_FIRST = 1n << 32n
const MAPPED_BLOCK: [bigint, bigint] = [V6_FIRST + (0xffffn << 32n), V6_FIRST + (0xffffn << 32n) + 0xffffffffn]

function trustAllMessage(family: string, all: string): string {
  return `The list trusts every ${family} address (as ${all} does): any client can then forge its IP. Name your proxies instead.`
}

/**
 * Whether the spans (sorted by start; zoned ones match only their zone and are skipped) cover
 * every value from lo to hi, counting the block `free` (if any) as covered.
 */
function coversFamily(spans: Span<number | bigint>[], lo: bigint, hi: bigint, free: [bigint, bigint] | undefined): boolean {
  let next = lo // the first value not covered yet
  for (const span of spans) {
    if (free !== undefined && next >= free[0] && next <= free[1]) next = free[1] + 1n
    if (span.zone !== '') continue
    if (BigInt(span.start) > next) return false
    const end = BigInt(span.end)
    if (end >= next) next = end + 1n
  }
  if (free !== undefined && next >= free[0] && next <= free[1]) next = free[1] + 1n
  return next > hi
}

interface Span<T extends number | bigint> {
  p: ParsedEntry
  start: T
  end: T
  zone: string
}

/**
 * CIDR blocks are either nested or disjoint: sorted by start (widest first), a block is nested
 * when it starts inside the widest block seen so far. (A zoned range is nested only in a range
 * of the same zone or of none.)
 */
function nestedWarnings<T extends number | bigint>(spans: Span<T>[], warnings: Warnings, reported: Set<string>): void {
  spans.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : 0))
  let outer: Span<T> | undefined
  for (const item of spans) {
    const inside = outer !== undefined && item.start <= outer.end && (outer.zone === '' || outer.zone === item.zone)
    if (!inside) {
      outer = item
      continue
    }
    if (outer!.p === item.p) continue
    const pair = item.p.entry + '\u0000' + outer!.p.entry
    if (reported.has(pair)) continue
    reported.add(pair)
    const by = outer!.p.entry
    warnings.add('nested', item.p.entry, () => `"${item.p.entry}" is already covered by "${by}"`)
  }
}

