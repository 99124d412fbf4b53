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
import type { Cidr } from './range-math.js'
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
 * The entries of a list as written and where each starts, in two parallel arrays: a 10,000-entry
 * list is parsed once, cold, at startup, where a pair per entry (and its destructuring) costs.
 */
export class EntryList {
  readonly texts: string[] = []
  readonly positions: number[] = []
  add(text: string, position: number): void {
    this.texts.push(text)
    this.positions.push(position)
  }
}

/** The range entry {@link fromEntries} parses into, read before the next. */
const range = new RangeScratch()

/** The `ranges` policy of a list's entries; with `isList` (an array, or several entries), a bare number among them is refused. */
export function fromEntries(entries: EntryList, isList: boolean): TrustPolicy {
  const warnings = new Warnings()
  let unix = false
  const { texts, positions } = entries
  // The entries kept (exact repeats after normalising dropped: `10.0.0.1/8` repeats `10.0.0.0/8`,
  // and the canonical form lists an entry once, so that it parses back without warnings), each
  // with its canonical text; their ranges go into `list` under the entry's index.
  const list = new RangeList()
  const ranges: string[] = []
  const written: string[] = []
  const multi: boolean[] = []
  const seen = new Map<string, number>()
  /** Repeats, as pairs of (entry index, index of the kept entry it repeats). */
  const repeats: number[] = []
  /** Keeps entry k as `text` and returns its index, or -1 for a repeat. */
  const keep = (text: string, k: number, cidrs: number): number => {
    const first = seen.get(text)
    if (first !== undefined) {
      repeats.push(k, first)
      return -1
    }
    const owner = ranges.length
    seen.set(text, owner)
    ranges.push(text)
    written.push(texts[k]!)
    multi.push(cidrs > 1)
    return owner
  }
  const keepAll = (text: string, k: number, cidrs: readonly Cidr[]): void => {
    const owner = keep(text, k, cidrs.length)
    for (let c = 0; owner >= 0 && c < cidrs.length; c++) list.add(cidrs[c]!, owner)
  }
  for (let k = 0; k < texts.length; k++) {
    const entry = texts[k]!
    const position = positions[k]!
    // Addresses (the bulk of a long list) start with a digit or ':'; only words need the checks
    // for keywords and names.
    const c0 = entry.charCodeAt(0)
    if (c0 >= 48 && c0 <= 58) {
      if (isList && entry.indexOf('.') < 0 && entry.indexOf(':') < 0 && isDigits(entry)) {
        throw new TrustProxyError(
          'hop-count-in-list',
          entry,
          position,
          'a bare number in a list is neither an address (write IPv4 in dotted form) nor allowed as a hop count (a hop count stands alone)',
        )
      }
    } else {
      const lower = entry.toLowerCase()
      if (lower === 'unix') {
        unix = true
        keepAll('unix', k, [])
        continue
      }
      const named = namedCidrs(lower)
      if (named !== undefined) {
        keepAll(lower, k, named)
        continue
      }
      const preset = currentPreset(lower)
      if (preset !== undefined) {
        const age = ageInDays(preset.taken)
        const limit = presetStaleDays(lower)
        if (age > limit) {
          warnings.add('preset-stale', entry, () => `The ${lower} ranges were taken on ${preset.taken}, ${age} days ago (over ${limit}): update @infram/trust-proxy, or call refreshPresets() where the server can reach ${preset.sources[0]}`)
        }
        keepAll(lower, k, presetCidrs(preset))
        continue
      }
      if (NONE_WORDS.has(lower) || ALL_WORDS.has(lower)) {
        throw new TrustProxyError('keyword-in-list', entry, position, `"${entry}" is a whole-value keyword and cannot be combined with other entries`)
      }
    }
    const text = parseRangeInto(range, entry, position)
    if (range.hostBits && warnings.take('host-bits')) warnings.push('host-bits', entry, `"${entry}" has host bits set; it is read as ${text}`)
    const owner = keep(text, k, 1)
    if (owner < 0) continue
    if (range.family === 4) list.add4(range.v4, range.prefix, owner)
    else list.add6(range.w0, range.w1, range.w2, range.w3, range.prefix, range.zone, owner)
  }
  for (let r = 0; r < repeats.length; r += 2) {
    const entry = texts[repeats[r]!]!
    const prev = written[repeats[r + 1]!]!
    warnings.add('duplicate', entry, () => `"${entry}" repeats "${prev}"`)
  }
  const set = new RangeSet(list)
  collectOverlapWarnings(list, { written, multi }, set, warnings)
  return new TrustPolicy('ranges', undefined, ranges, set, unix, warnings.done())
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
