/**
 * Which TRUST_PROXY entry covers an address, for the walk trace (trace.ts): a verdict per hop,
 * with the rule and the entry behind it, from an index of the policy's entries compiled once per
 * policy and cached.
 */
import { ParsedAddress, parseAddress, parseIPv4, parseIPv6 } from './ip.js'
import type { TrustFunction, TrustPolicy } from './policy.js'
import { parseTrustProxy } from './policy-parse.js'
import { maskBits } from './range-math.js'
import type { TraceRule } from './trace-types.js'

/** A verdict on one hop, and the TRUST_PROXY entry behind it. */
export interface Verdict {
  trusted: boolean
  rule: TraceRule
  matched?: string
}

export type Explainer = (addr: string | undefined, hop: number) => Verdict

// ---------------------------------------------------------------------------------------------
// Which TRUST_PROXY entry covers an address, compiled once per policy

const explainers = new WeakMap<object, Explainer>()

/**
 * The explainer of a policy, built on first use and cached: a 10,000-entry list is indexed once,
 * not per request.
 */
export function explainerFor(policy: TrustPolicy | TrustFunction): Explainer {
  let e = explainers.get(policy)
  if (e === undefined) {
    e = typeof policy === 'function' ? functionExplainer(policy) : policyExplainer(policy)
    explainers.set(policy, e)
  }
  return e
}

function functionExplainer(fn: TrustFunction): Explainer {
  return (addr, hop) => {
    let trusted = false
    try {
      trusted = !!fn(addr, hop)
    } catch {
      trusted = false // as the walk: a trust function that throws does not trust
    }
    return { trusted, rule: 'trust-function' }
  }
}

function policyExplainer(policy: TrustPolicy): Explainer {
  switch (policy.kind) {
    case 'none':
      return () => ({ trusted: false, rule: 'trust-none' })
    case 'all':
      return () => ({ trusted: true, rule: 'trust-all' })
    case 'hops': {
      const n = policy.hops!
      return (_addr, hop) => (hop < n ? { trusted: true, rule: 'hop-count' } : { trusted: false, rule: 'beyond-hop-count' })
    }
    default: {
      const index = new RangeIndex(policy.ranges)
      return (addr, hop) => {
        const matched = index.find(addr, hop)
        return matched === undefined ? { trusted: false, rule: 'not-in-ranges' } : { trusted: true, rule: 'range', matched }
      }
    }
  }
}

/**
 * The entries of a range list, indexed by prefix length: for an address, one map lookup per
 * distinct prefix length in the list (at most 33 for IPv4, 129 for IPv6), whatever the list's
 * length. Names (`loopback`, `private`, provider presets) are few and checked with their own
 * compiled policy. The answer is the first entry in list order that covers the address.
 */
class RangeIndex {
  private readonly v4 = new Map<number, Map<number, number>>()
  private readonly v6 = new Map<number, Map<string, number>>()
  private readonly names: { at: number; policy: TrustPolicy }[] = []
  private unixAt = -1
  /** The address `add` and `find` parse into (each reads it before it returns). */
  private readonly address = new ParsedAddress()

  constructor(private readonly entries: readonly string[]) {
    entries.forEach((text, at) => this.add(text, at))
  }

  private add(text: string, at: number): void {
    if (text === 'unix') {
      if (this.unixAt < 0) this.unixAt = at
      return
    }
    const slash = text.indexOf('/')
    const end = slash < 0 ? text.length : slash
    const prefixText = slash < 0 ? undefined : text.slice(slash + 1)
    const v = text.indexOf(':') < 0 ? parseIPv4(text, 0, end) : -1
    if (v >= 0) {
      const prefix = prefixText === undefined ? 32 : Number(prefixText)
      insert(this.v4, prefix, (v & maskBits(prefix)) >>> 0, at)
      return
    }
    const parsed = this.address
    if (text.indexOf(':') >= 0 && parseIPv6(parsed, text, 0, end)) {
      const zone = parsed.zoneStart === parsed.zoneEnd ? '' : text.slice(parsed.zoneStart, parsed.zoneEnd)
      if (parsed.family === 4) {
        // An IPv4-mapped range (normalised lists hold none, but a hand-made one might).
        const prefix = Math.max(0, (prefixText === undefined ? 128 : Number(prefixText)) - 96)
        insert(this.v4, prefix, (parsed.v4 & maskBits(prefix)) >>> 0, at)
        return
      }
      const prefix = prefixText === undefined ? 128 : Number(prefixText)
      insert(this.v6, prefix, key6(parsed.w0, parsed.w1, parsed.w2, parsed.w3, prefix, zone), at)
      return
    }
    // A name: its own policy decides (the same sets the walk matches).
    try {
      this.names.push({ at, policy: parseTrustProxy(text) })
    } catch {
      // Not something this version can read alone; it is then never named as the match.
    }
  }

  find(addr: string | undefined, hop: number): string | undefined {
    if (addr === undefined) return this.unixAt < 0 ? undefined : this.entries[this.unixAt]
    const parsed = this.address
    if (!parseAddress(parsed, addr, 0, addr.length)) return undefined
    let best = Infinity
    if (parsed.family === 4) {
      const v = parsed.v4
      for (const [prefix, map] of this.v4) {
        const at = map.get((v & maskBits(prefix)) >>> 0)
        if (at !== undefined && at < best) best = at
      }
    } else {
      const { w0, w1, w2, w3 } = parsed
      const zone = parsed.zoneStart === parsed.zoneEnd ? '' : addr.slice(parsed.zoneStart, parsed.zoneEnd)
      for (const [prefix, map] of this.v6) {
        // A range without a zone covers every zone; a zoned range only its own.
        let at = map.get(key6(w0, w1, w2, w3, prefix, ''))
        if (zone !== '') {
          const zoned = map.get(key6(w0, w1, w2, w3, prefix, zone))
          if (zoned !== undefined && (at === undefined || zoned < at)) at = zoned
        }
        if (at !== undefined && at < best) best = at
      }
    }
    for (const n of this.names) {
      if (n.at < best && n.policy.trust(addr, hop)) best = n.at
    }
    return best === Infinity ? undefined : this.entries[best]
  }
}

function insert<K>(index: Map<number, Map<K, number>>, prefix: number, key: K, at: number): void {
  let map = index.get(prefix)
  if (map === undefined) index.set(prefix, (map = new Map()))
  if (!map.has(key)) map.set(key, at)
}

function key6(w0: number, w1: number, w2: number, w3: number, prefix: number, zone: string): string {
  const m = (w: number, k: number) => (w & maskBits(prefix - 32 * k)) >>> 0
  return `${m(w0, 0)}:${m(w1, 1)}:${m(w2, 2)}:${m(w3, 3)}${zone === '' ? '' : '%' + zone}`
}
