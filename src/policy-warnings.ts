/**
 * The warnings of a range list: accepted, but worth a second look (trust-all however written,
 * duplicates, entries nested in others). Host bits, hop counts and stale presets are noticed
 * where they are parsed and added here.
 */
import type { TrustProxyWarning, TrustProxyWarningCode } from './policy.js'
import { type Cidr, type Span6, byStart6, compare6, endsAtTop6, joins6, maskBits, span6 } from './ranges.js'

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
  const v4: Span4[] = []
  const v6: Span6Of[] = []
  for (let k = 0; k < parsed.length; k++) {
    const p = parsed[k]!
    for (const c of p.cidrs) {
      if (c.family === 4) {
        const start = (c.v4 & maskBits(c.prefix)) >>> 0
        v4.push({ p, start, end: start + 2 ** (32 - c.prefix) - 1, zone: '' })
      } else {
        v6.push({ p, span: span6(c), zone: c.zone })
      }
    }
  }
  // One warning per pair of entries, even when both hold IPv4 and IPv6 ranges (uniquelocal in private).
  const reported = new Set<string>()
  v4.sort((a, b) => a.start - b.start || b.end - a.end)
  nestedWarnings(v4, (item, outer) => item.start <= outer.end, warnings, reported)
  v6.sort((a, b) => byStart6(a.span, b.span))
  nestedWarnings(v6, (item, outer) => startsWithin6(item.span, outer.span), warnings, reported)
  // Trust-all however it is written: 0.0.0.0/0, or 0.0.0.0/1 and 128.0.0.0/1, or a provider list
  // that happens to add up. (The spans are sorted by start now.)
  if (coversIPv4(v4)) warnings.add('trust-all', undefined, () => trustAllMessage('IPv4', '0.0.0.0/0'))
  if (coversIPv6(v6)) warnings.add('trust-all', undefined, () => trustAllMessage('IPv6', '::/0'))
}

function trustAllMessage(family: string, all: string): string {
  return `The list trusts every ${family} address (as ${all} does): any client can then forge its IP. Name your proxies instead.`
}

interface Span4 {
  p: ParsedEntry
  start: number
  end: number
  zone: string
}

interface Span6Of {
  p: ParsedEntry
  span: Span6
  /** A zoned range matches only its zone. */
  zone: string
}

const startsWithin6 = (item: Span6, outer: Span6): boolean => compare6(item.s0, item.s1, item.s2, item.s3, outer.e0, outer.e1, outer.e2, outer.e3) <= 0

/** Whether the spans (sorted by start) cover every IPv4 address. */
function coversIPv4(spans: Span4[]): boolean {
  let next = 0 // the first value not covered yet
  for (const span of spans) {
    if (span.start > next) return false
    if (span.end >= next) next = span.end + 1
  }
  return next > 0xffffffff
}

/**
 * The mapped block ::ffff:0:0/96: addresses there are IPv4 hosts, matched as IPv4, so the IPv6
 * space is whole without it.
 */
const MAPPED = span6({ family: 6, v4: 0, w: [0, 0, 0xffff, 0], prefix: 96, zone: '' })
/** The biased word of 0. */
const ZERO = -0x80000000

/** Whether the spans (sorted by start; zoned ones skipped) cover every IPv6 address but the mapped block. */
function coversIPv6(spans: Span6Of[]): boolean {
  // `covered` ends at the last address covered so far; nothing is covered below ::.
  let covered: Span6 | undefined
  const take = (span: Span6): boolean => {
    const joins = covered === undefined ? span.s0 === ZERO && span.s1 === ZERO && span.s2 === ZERO && span.s3 === ZERO : joins6(covered, span)
    if (!joins) return false
    if (covered === undefined || compare6(span.e0, span.e1, span.e2, span.e3, covered.e0, covered.e1, covered.e2, covered.e3) > 0) covered = span
    return true
  }
  let mappedTaken = false
  for (const { span, zone } of spans) {
    if (zone !== '') continue
    if (!mappedTaken && byStart6(MAPPED, span) <= 0) {
      mappedTaken = true
      if (!take(MAPPED)) return false
    }
    if (!take(span)) return false
  }
  if (!mappedTaken && !take(MAPPED)) return false
  return covered !== undefined && endsAtTop6(covered)
}

/**
 * CIDR blocks are either nested or disjoint: sorted by start (widest first), a block is nested
 * when it starts inside the widest block seen so far. (A zoned range is nested only in a range
 * of the same zone or of none.)
 */
function nestedWarnings<T extends { p: ParsedEntry; zone: string }>(
  spans: T[],
  startsWithin: (item: T, outer: T) => boolean,
  warnings: Warnings,
  reported: Set<string>,
): void {
  let outer: T | undefined
  for (const item of spans) {
    const inside = outer !== undefined && startsWithin(item, outer) && (outer.zone === '' || outer.zone === item.zone)
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
