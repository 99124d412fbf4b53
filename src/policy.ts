/**
 * TRUST_PROXY -> TrustPolicy: parsing, errors and warnings.
 *
 * Everything that can be wrong with a TRUST_PROXY value is found here, once, at startup, and
 * thrown as a {@link TrustProxyError} that names the bad entry. A value that parses is then
 * compiled into numeric form so that nothing at request time can fail or be slow.
 *
 * The two mistakes this module exists to prevent: Infram's old parser read `1` as "trust every
 * hop" (so any client could write its own audit IP), and Express reads the string `"1"` as the
 * address 0.0.0.1 (so the proxy is never trusted). Here `1` is one hop, always.
 */
import { P, formatIPv4, formatIPv6, parseIPv4, parseIPv6, parseItem } from './ip.js'
import { type Cidr, RangeSet, cidrBounds, maskBits } from './ranges.js'
import { type PresetData, ageInDays, currentPreset, presetNames, presetStaleDays } from './presets/registry.js'

/** What a policy trusts. */
export type PolicyKind = 'none' | 'all' | 'hops' | 'ranges'

/** Why a TRUST_PROXY value was refused; `TrustProxyError.reason`. */
export type TrustProxyErrorReason =
  | 'invalid-type'
  | 'empty-entry'
  | 'unknown-word'
  | 'keyword-in-list'
  | 'hop-count-format'
  | 'hop-count-range'
  | 'hop-count-in-list'
  | 'ipv4-shorthand'
  | 'ipv4-leading-zero'
  | 'ipv4-hex'
  | 'ipv4-octet-range'
  | 'invalid-address'
  | 'unspecified-address'
  | 'port-not-allowed'
  | 'prefix-invalid'
  | 'prefix-range'
  | 'netmask-noncontiguous'
  | 'netmask-not-ipv4'
  | 'zone-not-link-local'
  | 'zone-invalid'
  | 'mapped-prefix'
  | 'unicode-space'

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

const ACCEPTED =
  'Accepted: unset, false, 0, off or no (trust no proxy); true, on or yes (trust every hop); ' +
  `a hop count from 1 to ${MAX_HOPS}; or a list, separated by commas or spaces, of IP addresses ` +
  '(10.0.0.1, ::1), CIDR ranges (10.0.0.0/8, fd00::/8), IPv4 netmasks (10.0.0.0/255.0.0.0), ' +
  'the names loopback, linklocal, uniquelocal, private and unix, and the provider presets ' +
  `${presetNames().join(', ')}.`

/**
 * A TRUST_PROXY value that cannot be used. Thrown by {@link parseTrustProxy} at startup, never
 * at request time, so that a typo stops the server instead of silently trusting the wrong hops.
 */
export class TrustProxyError extends Error {
  readonly code = 'ERR_INVALID_TRUST_PROXY' as const
  /** The bad entry, as written. */
  readonly entry: string
  /**
   * Where the bad entry starts: a character offset (from 0) in a string value, or the index of
   * the element in an array value.
   */
  readonly position: number
  /** A machine-readable reason. */
  readonly reason: TrustProxyErrorReason

  constructor(reason: TrustProxyErrorReason, entry: string, position: number, problem: string) {
    super(`Invalid TRUST_PROXY entry ${JSON.stringify(entry)} at position ${position}: ${problem}. ${ACCEPTED}`)
    this.name = 'TrustProxyError'
    this.entry = entry
    this.position = position
    this.reason = reason
  }
}

/** A trust predicate in the form Express and Fastify take: `trust(address, hopIndex)`. */
export type TrustFunction = (addr: string | undefined, hop: number) => boolean

/** @internal Numeric kinds, for the per-request switch. */
export const KIND_NONE = 0
/** @internal */
export const KIND_ALL = 1
/** @internal */
export const KIND_HOPS = 2
/** @internal */
export const KIND_RANGES = 3

/**
 * A parsed, validated and compiled TRUST_PROXY value. Build it once with
 * {@link parseTrustProxy} and share it: it is immutable.
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
  readonly _kind: number
  /** @internal */
  readonly _hops: number
  /** @internal */
  readonly _set: RangeSet | undefined
  /** @internal Whether a peer with no IP address (a Unix socket) is trusted. */
  readonly _unix: boolean

  /** @internal Use {@link parseTrustProxy}. */
  constructor(
    kind: PolicyKind,
    hops: number | undefined,
    ranges: string[],
    cidrs: Cidr[],
    unix: boolean,
    warnings: TrustProxyWarning[],
  ) {
    this.kind = kind
    this.hops = hops
    this.ranges = Object.freeze(ranges)
    this.warnings = Object.freeze(warnings)
    this._kind = kind === 'none' ? KIND_NONE : kind === 'all' ? KIND_ALL : kind === 'hops' ? KIND_HOPS : KIND_RANGES
    this._hops = hops ?? 0
    this._set = kind === 'ranges' ? new RangeSet(cidrs) : undefined
    this._unix = unix
    const set = this._set
    this.trust =
      kind === 'none'
        ? () => false
        : kind === 'all'
          ? () => true
          : kind === 'hops'
            ? (_addr, hop) => hop < this._hops
            : (addr) => trustAddress(set!, unix, addr)
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

/** Range-policy trust of one address text, for callers (Express, Fastify) that pass raw text. */
function trustAddress(set: RangeSet, unix: boolean, addr: unknown): boolean {
  // Only undefined and null mean "no address" (a Unix socket); '' or a number is no address at
  // all, and trusting it as a Unix socket would let a forged entry through.
  if (addr === undefined || addr === null) return unix
  if (typeof addr !== 'string' || !parseItem(addr, 0, addr.length)) return false
  return matchParsed(set, addr)
}

/** @internal Whether the address in P (parsed from s) is in the set. */
export function matchParsed(set: RangeSet, s: string): boolean {
  if (P.family === 4) return set.has4(P.v4)
  return set.has6(P.w0, P.w1, P.w2, P.w3, P.zs === P.ze ? '' : s.slice(P.zs, P.ze))
}

// ---------------------------------------------------------------------------------------------
// Named ranges

const v4 = (a: number, b: number, c: number, d: number, prefix: number): Cidr => ({
  family: 4,
  v4: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0,
  w: [0, 0, 0, 0],
  prefix,
  zone: '',
})
const v6 = (w0: number, w1: number, w2: number, w3: number, prefix: number): Cidr => ({
  family: 6,
  v4: 0,
  w: [w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0],
  prefix,
  zone: '',
})

/** The proxy-addr names, plus `private` (all non-public unicast space). */
const NAMED: Record<string, Cidr[]> = {
  loopback: [v4(127, 0, 0, 0, 8), v6(0, 0, 0, 1, 128)],
  linklocal: [v4(169, 254, 0, 0, 16), v6(0xfe800000, 0, 0, 0, 10)],
  uniquelocal: [v4(10, 0, 0, 0, 8), v4(172, 16, 0, 0, 12), v4(192, 168, 0, 0, 16), v6(0xfc000000, 0, 0, 0, 7)],
}
NAMED.private = [...NAMED.loopback!, ...NAMED.linklocal!, ...NAMED.uniquelocal!, v4(100, 64, 0, 0, 10)]

const NONE_WORDS = new Set(['false', '0', 'off', 'no'])
const ALL_WORDS = new Set(['true', 'on', 'yes'])

// ---------------------------------------------------------------------------------------------
// Parsing

/** The inputs parseTrustProxy understands: the env string, or the forms Express accepts. */
export type TrustProxyInput = string | number | boolean | readonly string[] | null | undefined

/**
 * Parses a TRUST_PROXY value (the raw env string, a boolean, a number, an array of strings, or
 * undefined/null) into a {@link TrustPolicy}.
 *
 * Call it once at startup and let a {@link TrustProxyError} stop the process: a value that
 * cannot be read must not quietly become "trust nothing" (every client is the proxy) or
 * "trust everything" (every client can forge its IP).
 *
 * | value | policy |
 * |---|---|
 * | unset, empty, `false`, `0`, `off`, `no` | `none`: the client is the socket peer |
 * | `true`, `on`, `yes` | `all`: every hop trusted (warned: any client can forge its IP) |
 * | `1` .. `64` | `hops`: the socket peer and the next n-1 addresses are proxies |
 * | a list of addresses, CIDRs, netmasks and names | `ranges` |
 */
export function parseTrustProxy(value: TrustProxyInput | unknown): TrustPolicy {
  if (value === undefined || value === null || value === false) return policyNone()
  if (value === true) return policyAll()
  if (typeof value === 'number') return fromNumber(value)
  if (typeof value === 'string') return fromString(value)
  if (Array.isArray(value)) return fromArray(value)
  if (typeof value === 'function') {
    // Decided (docs/configuration-edges.md): a function is not a setting. The walk takes one as it is.
    throw new TrustProxyError(
      'invalid-type',
      'function',
      0,
      'a trust function is not a TRUST_PROXY setting: pass it as it is to resolveClientIp(fn, ...) or resolveClient(fn, ...), ' +
        'which call it with canonical addresses (Express and Fastify take it directly too); parseTrustProxy reads the values a deployment writes',
    )
  }
  throw new TrustProxyError(
    'invalid-type',
    describe(value),
    0,
    `a value of type ${typeof value} is not a TRUST_PROXY setting`,
  )
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'function'
  if (typeof value === 'symbol' || typeof value === 'bigint') return String(value)
  return Object.prototype.toString.call(value)
}

const policyNone = (): TrustPolicy => new TrustPolicy('none', undefined, [], [], false, [])

function policyAll(): TrustPolicy {
  return new TrustPolicy('all', undefined, [], [], true, [
    {
      code: 'trust-all',
      message:
        'Every hop is trusted: the client IP is the left-most X-Forwarded-For entry, which any client ' +
        'can write. Name your proxies instead (a hop count, or their addresses or ranges).',
    },
  ])
}

function policyHops(n: number): TrustPolicy {
  return new TrustPolicy('hops', n, [], [], true, [
    {
      code: 'hop-count',
      message:
        `A hop count (${n}) trusts whoever connects, without checking who it is: if this server can be ` +
        'reached without going through the proxy, any client can forge its IP. Prefer the proxy ' +
        "addresses or ranges (for example 127.0.0.9 for nginx on this host with `proxy_bind 127.0.0.9`, or " +
        '172.18.0.0/16 for a Docker network).',
    },
  ])
}

function fromNumber(n: number): TrustPolicy {
  const entry = String(n)
  if (!Number.isInteger(n) || n < 0) {
    throw new TrustProxyError('hop-count-format', entry, 0, 'a hop count is a whole number from 1 to ' + MAX_HOPS)
  }
  if (n === 0) return policyNone()
  if (n > MAX_HOPS) {
    throw new TrustProxyError('hop-count-range', entry, 0, `a hop count above ${MAX_HOPS} is not a real proxy chain`)
  }
  return policyHops(n)
}

const isDigits = (s: string): boolean => s.length > 0 && /^[0-9]+$/.test(s)

function fromString(raw: string): TrustPolicy {
  const u = UNICODE_SPACE.exec(raw)
  if (u !== null) throw unicodeSpace(raw, u.index, undefined)
  let start = 0
  let end = raw.length
  while (start < end && isSpace(raw.charCodeAt(start))) start++
  while (end > start && isSpace(raw.charCodeAt(end - 1))) end--
  const whole = raw.slice(start, end)
  if (whole === '') return policyNone()
  const lower = whole.toLowerCase()
  if (NONE_WORDS.has(lower)) return policyNone()
  if (ALL_WORDS.has(lower)) return policyAll()
  if (isDigits(whole)) {
    if (whole.length > 1 && whole[0] === '0') {
      throw new TrustProxyError('hop-count-format', whole, start, 'a hop count has no leading zeros')
    }
    const n = Number(whole)
    if (n > MAX_HOPS) {
      throw new TrustProxyError(
        'hop-count-range',
        whole,
        start,
        `a hop count above ${MAX_HOPS} is not a real proxy chain (and a bare number is not an IPv4 address: write it in dotted form)`,
      )
    }
    return policyHops(n)
  }
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?$/i.test(whole) && looksLikeHopCount(whole)) {
    throw new TrustProxyError('hop-count-format', whole, start, 'a hop count is a whole number from 1 to ' + MAX_HOPS + ', with no sign, fraction or exponent')
  }
  // A list: entries separated by commas and/or white space. A comma needs an entry on each side.
  const entries: [string, number][] = []
  let entrySinceComma = false
  let lastComma = -1
  for (let i = start; i < end; ) {
    const c = raw.charCodeAt(i)
    if (isSpace(c)) {
      i++
    } else if (c === 44 /* , */) {
      if (!entrySinceComma) throw new TrustProxyError('empty-entry', '', i, 'the list has an empty item (a comma with no entry before it)')
      entrySinceComma = false
      lastComma = i++
    } else {
      let j = i
      while (j < end && !isSpace(raw.charCodeAt(j)) && raw.charCodeAt(j) !== 44) j++
      entries.push([raw.slice(i, j), i])
      entrySinceComma = true
      i = j
    }
  }
  if (!entrySinceComma) throw new TrustProxyError('empty-entry', '', lastComma, 'the list ends with a comma')
  return fromEntries(entries, entries.length > 1)
}

/** Whether a numeric-looking value was meant as a hop count (as opposed to an IPv4 shorthand). */
function looksLikeHopCount(s: string): boolean {
  if (/^[+-]|e/i.test(s)) return true
  const dot = s.indexOf('.')
  return dot <= 0 || Number(s.slice(0, dot)) <= MAX_HOPS
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12
}

/**
 * White space outside ASCII: U+00A0 (no-break space), U+FEFF (byte-order mark), U+2028, U+3000...
 * The white space of TRUST_PROXY is {@link isSpace}'s, for a string and an array element alike;
 * these characters, invisible in an editor, are refused with their code point rather than
 * trimmed in one form and part of an entry in the other.
 */
const UNICODE_SPACE = /[^\S\t\n\v\f\r ]/

function unicodeSpace(text: string, at: number, element: number | undefined): TrustProxyError {
  let a = at
  let b = at + 1
  while (a > 0 && !isSpace(text.charCodeAt(a - 1)) && text.charCodeAt(a - 1) !== 44) a--
  while (b < text.length && !isSpace(text.charCodeAt(b)) && text.charCodeAt(b) !== 44) b++
  const code = 'U+' + text.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')
  return new TrustProxyError(
    'unicode-space',
    element === undefined ? text.slice(a, b) : text,
    element ?? a,
    `it holds ${code}, white space that is not a space, tab or line break (pasted from a web page, or a byte-order mark?); ` +
      'TRUST_PROXY trims and separates on ASCII white space only: retype it',
  )
}

/** The text without the {@link isSpace} white space at its ends. */
function trimSpace(text: string): string {
  let a = 0
  let b = text.length
  while (a < b && isSpace(text.charCodeAt(a))) a++
  while (b > a && isSpace(text.charCodeAt(b - 1))) b--
  return text.slice(a, b)
}

function fromArray(arr: readonly unknown[]): TrustPolicy {
  if (arr.length === 0) return policyNone()
  const entries: [string, number][] = []
  arr.forEach((item, k) => {
    if (typeof item !== 'string') {
      throw new TrustProxyError('invalid-type', describe(item), k, 'every element of a TRUST_PROXY array must be a string')
    }
    const u = UNICODE_SPACE.exec(item)
    if (u !== null) throw unicodeSpace(item, u.index, k)
    const text = trimSpace(item)
    if (text === '') throw new TrustProxyError('empty-entry', item, k, 'the list has an empty item')
    if (/[\s,]/.test(text)) {
      throw new TrustProxyError('invalid-address', item, k, 'an array element holds one entry; split lists into separate elements')
    }
    entries.push([text, k])
  })
  return fromEntries(entries, true)
}

interface Parsed {
  text: string
  cidrs: Cidr[]
  /** The entry as written and where, for warnings. */
  entry: string
  position: number
}

function fromEntries(entries: [string, number][], isList: boolean): TrustPolicy {
  const parsed: Parsed[] = []
  const warnings = new Warnings()
  let unix = false
  for (const [entry, position] of entries) {
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
        parsed.push({ text: 'unix', cidrs: [], entry, position })
        continue
      }
      const named = NAMED[lower]
      if (named !== undefined && Object.prototype.hasOwnProperty.call(NAMED, lower)) {
        parsed.push({ text: lower, cidrs: named, entry, position })
        continue
      }
      const preset = currentPreset(lower)
      if (preset !== undefined) {
        parsed.push({ text: lower, cidrs: presetCidrs(preset), entry, position })
        const age = ageInDays(preset.taken)
        const limit = presetStaleDays(lower)
        if (age > limit) {
          warnings.add('preset-stale', entry, () => `The ${lower} ranges were taken on ${preset.taken}, ${age} days ago (over ${limit}): update @infram/trust-proxy, or call refreshPresets() where the server can reach ${preset.sources[0]}`)
        }
        continue
      }
      if (NONE_WORDS.has(lower) || ALL_WORDS.has(lower)) {
        throw new TrustProxyError('keyword-in-list', entry, position, `"${entry}" is a whole-value keyword and cannot be combined with other entries`)
      }
    }
    const cidr = parseRangeEntry(entry, position)
    if (cidr.hostBits) warnings.add('host-bits', entry, () => `"${entry}" has host bits set; it is read as ${cidr.text}`)
    parsed.push({ text: cidr.text, cidrs: [cidr.cidr], entry, position })
  }
  const unique = dropDuplicates(parsed, warnings)
  collectOverlapWarnings(unique, warnings)
  const cidrs = unique.flatMap((p) => p.cidrs)
  return new TrustPolicy('ranges', undefined, unique.map((p) => p.text), cidrs, unix, warnings.done())
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

/** Per-entry warnings shown one by one; past this, one warning says how many more there are. */
const MAX_WARNINGS_PER_CODE = 20

/**
 * Collects warnings. A 10,000-entry cloud list can have thousands of nested or host-bits entries;
 * a list of thousands of warnings helps no one (and building them costs startup time), so each
 * kind is capped and the messages past the cap are never built.
 */
class Warnings {
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
function dropDuplicates(parsed: Parsed[], warnings: Warnings): Parsed[] {
  const seen = new Map<string, Parsed>()
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

function collectOverlapWarnings(parsed: Parsed[], warnings: Warnings): void {
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
  p: Parsed
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

interface RangeEntry {
  cidr: Cidr
  text: string
  hostBits: boolean
}

/** One address or range entry of a list: `addr`, `addr/prefix`, `a.b.c.d/netmask`, `fe80::1%zone`. */
function parseRangeEntry(entry: string, position: number): RangeEntry {
  const fail = (reason: TrustProxyErrorReason, problem: string): never => {
    throw new TrustProxyError(reason, entry, position, problem)
  }
  const slash = entry.indexOf('/')
  const addr = slash < 0 ? entry : entry.slice(0, slash)
  const suffix = slash < 0 ? undefined : entry.slice(slash + 1)
  let family: 4 | 6
  let value4 = 0
  let words: [number, number, number, number] = [0, 0, 0, 0]
  let zone = ''
  let mapped = false
  if (addr.includes(':')) {
    if (addr.startsWith('[') || /^[0-9.]+:[0-9]*$/.test(addr)) fail('port-not-allowed', 'a trusted entry is an address or range, without brackets or a port')
    const pct = addr.indexOf('%')
    if (!parseIPv6(addr, 0, addr.length)) {
      if (pct >= 0 && parseIPv6(addr, 0, pct)) {
        // The address is fine without its zone; an IPv4-mapped one takes none at all.
        if (P.family === 4) fail('zone-not-link-local', 'a zone (%name) is only meaningful on a link-local address (fe80::/10), not on an IPv4-mapped one')
        fail('zone-invalid', 'a zone is an interface name or number made of letters, digits and . _ ~ -')
      }
      fail('invalid-address', 'not an IPv6 address')
    }
    if (pct >= 0) {
      zone = addr.slice(pct + 1)
      if (P.zs === P.ze) fail('zone-not-link-local', 'a zone (%name) is only meaningful on a link-local address (fe80::/10)')
    }
    if (P.family === 4) {
      mapped = true
      value4 = P.v4 >>> 0
      words = [0, 0, 0xffff, value4]
    } else {
      words = [P.w0 >>> 0, P.w1 >>> 0, P.w2 >>> 0, P.w3 >>> 0]
    }
    family = 6
  } else {
    if (addr.includes('%')) fail('zone-not-link-local', 'a zone (%name) is only meaningful on a link-local IPv6 address')
    const v = parseIPv4(addr, 0, addr.length)
    if (v < 0) explainIPv4(addr, fail)
    family = 4
    value4 = v
  }

  let prefix = family === 4 ? 32 : 128
  if (suffix !== undefined) {
    if (/^[0-9]+$/.test(suffix)) {
      if (suffix.length > 1 && suffix[0] === '0') fail('prefix-invalid', 'a prefix length has no leading zeros')
      prefix = Number(suffix)
      if (prefix > (family === 4 ? 32 : 128)) fail('prefix-range', `a prefix length is 0-${family === 4 ? 32 : 128} for ${family === 4 ? 'IPv4' : 'IPv6'}`)
    } else if (suffix.includes('.') || suffix.includes(':')) {
      if (family === 6 || suffix.includes(':')) fail('netmask-not-ipv4', 'netmasks are accepted for IPv4 only; write IPv6 ranges with a prefix length')
      const m = parseIPv4(suffix, 0, suffix.length)
      if (m < 0) fail('netmask-noncontiguous', 'the netmask is not a dotted IPv4 mask')
      let bits = 0
      while (bits < 32 && maskBits(bits + 1) === ((m & maskBits(bits + 1)) >>> 0)) bits++
      if (maskBits(bits) !== m) fail('netmask-noncontiguous', 'the netmask is not contiguous (its one bits must come first)')
      prefix = bits
    } else {
      fail('prefix-invalid', 'the part after "/" is neither a prefix length nor a netmask')
    }
  }
  if (mapped && prefix < 96) fail('mapped-prefix', mappedPrefixProblem(value4, prefix, words))
  if (zone !== '' && prefix < 10) fail('zone-not-link-local', 'a zoned range must lie inside fe80::/10')

  // An IPv6 range inside ::ffff:0:0/96 means the IPv4 range it maps.
  if (mapped) {
    family = 4
    prefix -= 96
  }
  // One address that is the unspecified one (0.0.0.0, ::, also as /32, /128, a full netmask or
  // ::ffff:0.0.0.0) names no host, and its canonical text would be refused: refuse it here.
  if (prefix === (family === 4 ? 32 : 128) && (family === 4 ? value4 === 0 : words.every((w) => w === 0))) {
    fail('unspecified-address', 'the unspecified address never connects to anything; for all addresses write 0.0.0.0/0 or ::/0')
  }
  let hostBits: boolean
  let cidr: Cidr
  let text: string
  if (family === 4) {
    const m = maskBits(prefix)
    const net = (value4 & m) >>> 0
    hostBits = net !== value4
    cidr = { family: 4, v4: net, w: [0, 0, 0, 0], prefix, zone: '' }
    // Strict IPv4 text is canonical already: reuse it unless normalising changed something.
    const asWritten = !mapped && !hostBits && prefix !== 32 && suffix !== undefined && /^[0-9]+$/.test(suffix)
    text = asWritten || (!mapped && suffix === undefined) ? entry : formatIPv4(net) + (prefix === 32 ? '' : '/' + prefix)
  } else {
    const net = words.map((w, k) => (w & maskBits(prefix - 32 * k)) >>> 0) as [number, number, number, number]
    hostBits = net.some((w, k) => w !== words[k])
    cidr = { family: 6, v4: 0, w: net, prefix, zone }
    text = formatIPv6(net[0], net[1], net[2], net[3]) + (zone ? '%' + zone : '') + (prefix === 128 ? '' : '/' + prefix)
  }
  return { cidr, text, hostBits }
}

/**
 * Why `::ffff:10.0.0.0/8` is refused: read as IPv6 it is `::/8`, which trusts `::1` and covers no
 * IPv4 address (proxy-addr 2.0.8 trusts nothing for it); the writer meant an IPv4 range.
 */
function mappedPrefixProblem(value4: number, prefix: number, words: readonly number[]): string {
  const v6 = words.map((w, k) => (w & maskBits(prefix - 32 * k)) >>> 0)
  const asIPv6 = formatIPv6(v6[0]!, v6[1]!, v6[2]!, v6[3]!) + '/' + prefix
  const hint =
    prefix <= 32
      ? `write ${formatIPv4((value4 & maskBits(prefix)) >>> 0)}/${prefix} for the IPv4 range, or ::ffff:${formatIPv4((value4 & maskBits(prefix)) >>> 0)}/${prefix + 96} for the same range in mapped form`
      : 'write the IPv4 range with a prefix of 0-32, or the mapped form with a prefix of 96-128'
  return `an IPv4-mapped address with a prefix below 96 is ambiguous (as IPv6 it would be ${asIPv6}, which covers no IPv4 address): ${hint}`
}

/** Says precisely why a dotted-decimal-looking entry is not a strict IPv4 address. */
function explainIPv4(addr: string, fail: (reason: TrustProxyErrorReason, problem: string) => never): never {
  if (/(^|\.)0x/i.test(addr)) fail('ipv4-hex', 'hexadecimal octets are not accepted (different tools read them differently)')
  if (/^[0-9]+(\.[0-9]+)*$/.test(addr)) {
    const parts = addr.split('.')
    if (parts.length < 4) {
      fail('ipv4-shorthand', 'IPv4 shorthand (inet_aton form, such as 127.1 or a bare number) is not accepted; write all four octets')
    }
    if (parts.length === 4) {
      if (parts.some((p) => p.length > 1 && p[0] === '0')) {
        fail('ipv4-leading-zero', 'an octet with a leading zero is octal to some parsers (010 = 8); write it without the zero')
      }
      fail('ipv4-octet-range', 'an IPv4 octet is 0-255')
    }
  }
  if (/^[a-z][a-z0-9_-]*$/i.test(addr)) fail('unknown-word', `not a keyword, a range name or an address (the names are loopback, linklocal, uniquelocal, private, unix, ${presetNames().join(', ')})`)
  return fail('invalid-address', 'not an IPv4 or IPv6 address')
}
