/**
 * The entries of a TRUST_PROXY list -> a `ranges` policy: each entry read as a name, a preset or
 * an address or range (cidr.ts), exact repeats dropped, the ranges compiled into one
 * {@link RangeSet}, and the warnings the list earns (policy-warnings.ts). The value's other forms,
 * and how a list is cut into entries, are policy-parse.ts.
 */
import { RangeScratch, parseRangeEntry, parseRangeInto } from './cidr.js'
import { namedRanges } from './named-ranges.js'
import { TrustProxyError } from './policy-error.js'
import { ALL_WORDS, NONE_WORDS, isDigits } from './policy-text.js'
import { Warnings, collectOverlapWarnings } from './policy-warnings.js'
import { TrustPolicy } from './policy.js'
import { type PresetData, ageInDays, currentPreset, presetStaleDays } from './presets/registry.js'
import { RangeList } from './range-list.js'
import { formatIPv4 } from './ip-text.js'
import { type Cidr, maskBits } from './range-math.js'
import { RangeSet } from './ranges.js'

/** A name's ranges, compiled on first use by the same parser as any entry. */
const namedCache = new Map<string, Cidr[]>()

function namedCidrs(name: string): Cidr[] | undefined {
  let cidrs = namedCache.get(name)
  if (cidrs === undefined) {
    const texts = namedRanges(name)
    if (texts === undefined) return undefined
    cidrs = texts.map((text, k) => parseRangeEntry(text, k).cidr)
    namedCache.set(name, cidrs)
  }
  return cidrs
}

/**
 * The entries of a list as written and where each starts, in parallel arrays: a 10,000-entry
 * list is parsed once, cold, at startup, where a pair per entry (and its destructuring) costs.
 * The list lexer reads strict IPv4 entries as it finds them: their value and prefix length are
 * kept here too (`bits` -1 for every other entry).
 */
export class EntryList {
  readonly texts: string[] = []
  readonly positions: number[] = []
  /** A strict IPv4 entry's address (unsigned) and prefix length (32 when none is written), or -1. */
  readonly v4: number[] = []
  readonly bits: number[] = []
  /** An entry the lexer did not read as IPv4. */
  add(text: string, position: number): void {
    this.texts.push(text)
    this.positions.push(position)
    this.v4.push(0)
    this.bits.push(-1)
  }
}

/**
 * The canonical text of a strict IPv4 entry the lexer read, as {@link parseRangeInto} gives it:
 * the entry itself unless it ends in `/32` or has host bits set. Undefined for the unspecified
 * address, which parseRangeInto refuses.
 */
function ipv4EntryText(entry: string, v4: number, bits: number, net: number): string | undefined {
  if (bits !== 32) return net === v4 ? entry : formatIPv4(net) + '/' + bits
  if (v4 === 0) return undefined
  return entry.indexOf('/') < 0 ? entry : formatIPv4(v4)
}

/** The range entry {@link fromEntries} parses into, read before the next. */
const range = new RangeScratch()

/**
 * The entries kept so far: exact repeats after normalising are dropped (`10.0.0.1/8` repeats
 * `10.0.0.0/8`, and the canonical form lists an entry once, so that it parses back without
 * warnings), each kept entry with its canonical text; their ranges go into `list` under the kept
 * entry's index (its owner).
 */
class Kept {
  readonly list = new RangeList()
  readonly ranges: string[] = []
  readonly written: string[] = []
  /** How many ranges each kept entry holds (a name or preset holds several). */
  readonly rangeCount: number[] = []
  readonly seen = new Map<string, number>()
  /** Repeats, as pairs of (entry index, index of the kept entry it repeats). */
  readonly repeats: number[] = []
  unix = false

  /** Keeps entry k (`entry` as written) as `text` and returns its owner index, or -1 for a repeat. */
  keep(text: string, entry: string, k: number, cidrs: number): number {
    const first = this.seen.get(text)
    if (first !== undefined) {
      this.repeats.push(k, first)
      return -1
    }
    const owner = this.ranges.length
    this.seen.set(text, owner)
    this.ranges.push(text)
    this.written.push(entry)
    this.rangeCount.push(cidrs)
    return owner
  }

  keepAll(text: string, entry: string, k: number, cidrs: readonly Cidr[]): void {
    const owner = this.keep(text, entry, k, cidrs.length)
    for (let c = 0; owner >= 0 && c < cidrs.length; c++) this.list.add(cidrs[c]!, owner)
  }
}

/** The `ranges` policy of a list's entries; with `isList` (an array, or several entries), a bare number among them is refused. */
export function fromEntries(entries: EntryList, isList: boolean): TrustPolicy {
  const warnings = new Warnings()
  const kept = new Kept()
  const { texts, positions, bits, v4 } = entries
  for (let k = 0; k < texts.length; k++) {
    const entry = texts[k]!
    const b = bits[k]!
    if (b >= 0) {
      // Strict IPv4, read by the lexer: what parseRangeInto would make of it, without reading it again.
      const v = v4[k]!
      const net = (v & maskBits(b)) >>> 0
      const text = ipv4EntryText(entry, v, b, net)
      if (text !== undefined) {
        if (net !== v && warnings.take('host-bits')) warnings.push('host-bits', entry, `"${entry}" has host bits set; it is read as ${text}`)
        const owner = kept.keep(text, entry, k, 1)
        if (owner >= 0) kept.list.add4(net, b, owner)
        continue
      }
    }
    // Addresses (the bulk of a long list) start with a digit or ':'; only words need the checks
    // for keywords and names.
    const c0 = entry.charCodeAt(0)
    if (c0 >= 48 && c0 <= 58 ? !checkNotHopCount(entry, positions[k]!, isList) : !addWord(kept, warnings, entry, k, positions[k]!)) {
      addRange(kept, warnings, entry, k, positions[k]!)
    }
  }
  const { list, written, rangeCount, repeats } = kept
  for (let r = 0; r < repeats.length; r += 2) {
    const entry = texts[repeats[r]!]!
    const prev = written[repeats[r + 1]!]!
    warnings.add('duplicate', entry, () => `"${entry}" repeats "${prev}"`)
  }
  const set = new RangeSet(list)
  collectOverlapWarnings(list, { written, rangeCount }, set, warnings)
  return new TrustPolicy('ranges', undefined, kept.ranges, set, kept.unix, warnings.done())
}

/** Refuses a bare number in a list (it is neither an address nor, there, a hop count); false. */
function checkNotHopCount(entry: string, position: number, isList: boolean): false {
  if (isList && entry.indexOf('.') < 0 && entry.indexOf(':') < 0 && isDigits(entry)) {
    throw new TrustProxyError(
      'hop-count-in-list',
      entry,
      position,
      'a bare number in a list is neither an address (write IPv4 in dotted form) nor allowed as a hop count (a hop count stands alone)',
    )
  }
  return false
}

/** An address or range entry, parsed by cidr.ts (which throws for anything else). */
function addRange(kept: Kept, warnings: Warnings, entry: string, k: number, position: number): void {
  const text = parseRangeInto(range, entry, position)
  if (range.hostBits && warnings.take('host-bits')) warnings.push('host-bits', entry, `"${entry}" has host bits set; it is read as ${text}`)
  const owner = kept.keep(text, entry, k, 1)
  if (owner < 0) return
  if (range.family === 4) kept.list.add4(range.v4, range.prefix, owner)
  else kept.list.add6(range.w0, range.w1, range.w2, range.w3, range.prefix, range.zone, owner)
}

/** A word: `unix`, a range name or a preset (true, kept), a keyword (thrown), or none of them (false). */
function addWord(kept: Kept, warnings: Warnings, entry: string, k: number, position: number): boolean {
  const lower = entry.toLowerCase()
  if (lower === 'unix') {
    kept.unix = true
    kept.keepAll('unix', entry, k, [])
    return true
  }
  const named = namedCidrs(lower)
  if (named !== undefined) {
    kept.keepAll(lower, entry, k, named)
    return true
  }
  const preset = currentPreset(lower)
  if (preset !== undefined) {
    const age = ageInDays(preset.taken)
    const limit = presetStaleDays(lower)
    if (age > limit) {
      warnings.add('preset-stale', entry, () => `The ${lower} ranges were taken on ${preset.taken}, ${age} days ago (over ${limit}): update @infram/trust-proxy, or call refreshPresets() where the server can reach ${preset.sources[0]}`)
    }
    kept.keepAll(lower, entry, k, presetCidrs(preset))
    return true
  }
  if (NONE_WORDS.has(lower) || ALL_WORDS.has(lower)) {
    throw new TrustProxyError('keyword-in-list', entry, position, `"${entry}" is a whole-value keyword and cannot be combined with other entries`)
  }
  return false
}

/** Compiled provider presets, per data object (a refresh brings a new object, compiled anew). */
const presetCache = new WeakMap<PresetData, Cidr[]>()

/** A preset's ranges in numeric form, parsed by the same code as any TRUST_PROXY entry. */
function presetCidrs(data: PresetData): Cidr[] {
  let cidrs = presetCache.get(data)
  if (cidrs === undefined) {
    cidrs = data.ranges.map((r, k) => parseRangeEntry(r, k).cidr)
    presetCache.set(data, cidrs)
  }
  return cidrs
}
