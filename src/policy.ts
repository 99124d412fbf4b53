/**
 * The policy: what a parsed TRUST_PROXY value trusts, in the form the walk matches against.
 *
 * A {@link TrustPolicy} is made by `parseTrustProxy` (policy-parse.ts) and never changes. Its
 * public fields describe it (`kind`, `hops`, `ranges`, `warnings`, `toString()`); what the walk
 * needs per request is compiled once into {@link PolicyInternals} and carried under one brand, the
 * {@link POLICY} symbol. Every part of the library that takes a policy (the walk, the edge
 * headers, the trace, the adapters' setup check, `livePolicy`) recognises it by that brand alone.
 *
 * Why a brand and not `instanceof`: the ESM and CommonJS builds each carry one copy of this
 * class, and an app may load both; a policy made by one must work in the other. `Symbol.for`
 * gives both copies the same key, and the internals are plain data (numbers, a range set whose
 * methods travel with it), so either copy's walk can read the other's policy.
 */
import { ParsedAddress, parseItem } from './ip.js'
import type { RangeSet } from './ranges.js'

/** What a policy trusts. */
export type PolicyKind = 'none' | 'all' | 'hops' | 'ranges'

/** Why a TRUST_PROXY value is accepted but worth a second look; `TrustProxyWarning.code`. */
export type TrustProxyWarningCode = 'trust-all' | 'host-bits' | 'duplicate' | 'nested' | 'hop-count' | 'preset-stale'

export interface TrustProxyWarning {
  readonly code: TrustProxyWarningCode
  /** The entry the warning is about, as written (absent for whole-value warnings). */
  readonly entry?: string
  readonly message: string
}

/** The largest hop count accepted. More proxies than this in one chain is a configuration error. */
export const MAX_HOPS = 64

/** A trust predicate in the form Express and Fastify take: `trust(address, hopIndex)`. */
export type TrustFunction = (addr: string | undefined, hop: number) => boolean

/** @internal The key of a policy's internals, the same in every copy of the library. */
export const POLICY: unique symbol = Symbol.for('@infram/trust-proxy.policy') as never

/** @internal The kinds as small integers, for the per-request switch. */
export const KIND_NONE = 0
/** @internal */
export const KIND_ALL = 1
/** @internal */
export const KIND_HOPS = 2
/** @internal */
export const KIND_RANGES = 3
/** @internal */
export type Kind = typeof KIND_NONE | typeof KIND_ALL | typeof KIND_HOPS | typeof KIND_RANGES

/** @internal What the walk reads of a policy: compiled at parse time, frozen. */
export interface PolicyInternals {
  readonly kind: Kind
  /** The hop count (kind Hops); 0 otherwise. */
  readonly hops: number
  /** The compiled ranges (kind Ranges). */
  readonly set: RangeSet | undefined
  /** Whether a peer with no IP address (a Unix socket) is trusted. */
  readonly unix: boolean
}

/**
 * @internal The internals of a policy from any copy of the library (or of a `livePolicy`), or
 * undefined for anything else: the one test of "is this a policy" everywhere.
 */
export function policyInternals(value: unknown): PolicyInternals | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const internals = (value as { [POLICY]?: unknown })[POLICY]
  return typeof internals === 'object' && internals !== null && typeof (internals as PolicyInternals).kind === 'number'
    ? (internals as PolicyInternals)
    : undefined
}

/**
 * A parsed, validated and compiled TRUST_PROXY value. Build it once with `parseTrustProxy` and
 * share it: it is immutable.
 */
export class TrustPolicy {
  readonly kind: PolicyKind
  /** The hop count, for kind `hops`; undefined otherwise. */
  readonly hops: number | undefined
  /** The normalised list entries, for kind `ranges`; empty otherwise. */
  readonly ranges: readonly string[]
  readonly warnings: readonly TrustProxyWarning[]
  /**
   * `trust(addr, hop)`, bound, for `app.set('trust proxy', policy.trust)` in Express and
   * `trustProxy: policy.trust` in Fastify. It canonicalises `addr` before matching, so an
   * IPv4-mapped address matches IPv4 ranges and nothing else does by accident.
   */
  readonly trust: TrustFunction
  /** @internal */
  readonly [POLICY]: PolicyInternals

  /** @internal Use `parseTrustProxy`. */
  constructor(kind: PolicyKind, hops: number | undefined, ranges: string[], set: RangeSet | undefined, unix: boolean, warnings: TrustProxyWarning[]) {
    this.kind = kind
    this.hops = hops
    this.ranges = Object.freeze(ranges)
    this.warnings = Object.freeze(warnings)
    const internals: PolicyInternals = Object.freeze({
      kind: kind === 'none' ? KIND_NONE : kind === 'all' ? KIND_ALL : kind === 'hops' ? KIND_HOPS : KIND_RANGES,
      hops: hops ?? 0,
      set: kind === 'ranges' ? set : undefined,
      unix,
    })
    this[POLICY] = internals
    const n = internals.hops
    this.trust =
      kind === 'none'
        ? () => false
        : kind === 'all'
          ? () => true
          : kind === 'hops'
            ? (_addr, hop) => hop < n
            : (addr) => trustAddress(internals, addr)
    Object.freeze(this)
  }

  /** A canonical TRUST_PROXY string that parses back to an equal policy. */
  toString(): string {
    switch (this.kind) {
      case 'none':
        return 'false'
      case 'all':
        return 'true'
      case 'hops':
        return String(this.hops)
      default:
        return this.ranges.join(', ')
    }
  }

  toJSON(): { kind: PolicyKind; hops?: number; ranges?: readonly string[]; warnings: readonly TrustProxyWarning[]; value: string } {
    return {
      kind: this.kind,
      ...(this.hops !== undefined ? { hops: this.hops } : {}),
      ...(this.kind === 'ranges' ? { ranges: this.ranges } : {}),
      warnings: this.warnings,
      value: this.toString(),
    }
  }
}

/** @internal Whether a parsed address is in a range policy's set (a zone must match a zoned range). */
export function inRanges(internals: PolicyInternals, a: ParsedAddress): boolean {
  return a.family === 4 ? internals.set!.has4(a.v4) : inRanges6(internals.set!, a)
}

/** The IPv6 half of {@link inRanges}, apart so that the IPv4 half stays small enough to inline. */
function inRanges6(set: RangeSet, a: ParsedAddress): boolean {
  return set.has6(a.w0, a.w1, a.w2, a.w3, a.zoneStart === a.zoneEnd ? '' : a.input.slice(a.zoneStart, a.zoneEnd))
}

/**
 * The address `policy.trust` reads into. It is this function's alone: nothing runs between the
 * parse and the match, so a trust function called from inside a walk cannot disturb it.
 */
let trustScratch: ParsedAddress | undefined

/** Range-policy trust of one address text, for callers (Express, Fastify) that pass raw text. */
function trustAddress(internals: PolicyInternals, addr: unknown): boolean {
  // Only undefined and null mean "no address" (a Unix socket); '' or a number is no address at
  // all, and trusting it as a Unix socket would let a forged entry through.
  if (addr === undefined || addr === null) return internals.unix
  if (typeof addr !== 'string') return false
  const a = (trustScratch ??= new ParsedAddress())
  return parseItem(a, addr, 0, addr.length) && inRanges(internals, a)
}
