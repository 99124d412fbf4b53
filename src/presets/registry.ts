/**
 * The provider presets in use: the data shipped in `data/`, replaced as a whole by a successful
 * {@link refreshPresets}. Each preset is one frozen object swapped in a single assignment, so a
 * policy parsed at any moment sees either the old list or the new one, never a mix.
 */
import { cloudflare } from './data/cloudflare.js'
import { cloudfront } from './data/cloudfront.js'
import { fastly } from './data/fastly.js'
import { googleLb } from './data/google-lb.js'
import { SOURCES } from './sources.js'
import type { PresetData } from './types.js'

export type { PresetData }

/**
 * How many days old a preset's data may be before a policy naming it carries a `preset-stale`
 * warning: the age each provider's list is stated to stay good for (see `sources.ts`).
 */
export function presetStaleDays(name: string): number {
  return SOURCES.find((s) => s.name === name)?.staleAfterDays ?? 180
}

const current = new Map<string, PresetData>()
for (const d of [cloudflare, cloudfront, fastly, googleLb]) current.set(d.name, freeze(d))

/** Bumped on every swap, so that caches of compiled presets know to recompile. */
let generation = 0

function freeze(d: PresetData): PresetData {
  return Object.freeze({ ...d, sources: Object.freeze([...d.sources]), ranges: Object.freeze([...d.ranges]) })
}

/** The preset names, in the order they are documented. */
export function presetNames(): string[] {
  return [...current.keys()]
}

/** @internal The data of one preset in use, or undefined when `name` is not a preset. */
export function currentPreset(name: string): PresetData | undefined {
  return current.get(name)
}

/** @internal Replaces one preset's data (already validated by the caller). */
export function swapPreset(data: PresetData): void {
  if (!current.has(data.name)) throw new TypeError(`not a preset: ${data.name}`)
  current.set(data.name, freeze(data))
  generation++
}

/** @internal */
export function presetGeneration(): number {
  return generation
}

/** Days between a YYYY-MM-DD date and `now` (whole days, UTC). */
export function ageInDays(taken: string, now: number = Date.now()): number {
  const t = Date.parse(taken + 'T00:00:00Z')
  return Number.isNaN(t) ? Infinity : Math.floor((now - t) / 86_400_000)
}

/** What `trust-proxy check` and the docs say about a preset. */
export interface PresetInfo {
  name: string
  title: string
  sources: readonly string[]
  taken: string
  via?: string
  /** The ranges themselves, as published (for a firewall, or a comparison). */
  ranges: readonly string[]
  /** How many ranges the list has (IPv4 and IPv6). */
  size: number
  ipv4: number
  ipv6: number
  ageDays: number
  /** The age past which the data is called stale. */
  staleAfterDays: number
  stale: boolean
}

/** Every preset in use with its size, date, source and age. */
export function presetInfo(now: number = Date.now()): PresetInfo[] {
  return [...current.values()].map((d) => {
    const ageDays = ageInDays(d.taken, now)
    const ipv6 = d.ranges.filter((r) => r.includes(':')).length
    return {
      name: d.name,
      title: d.title,
      sources: d.sources,
      taken: d.taken,
      ...(d.via !== undefined ? { via: d.via } : {}),
      ranges: d.ranges,
      size: d.ranges.length,
      ipv4: d.ranges.length - ipv6,
      ipv6,
      ageDays,
      staleAfterDays: presetStaleDays(d.name),
      stale: ageDays > presetStaleDays(d.name),
    }
  })
}
