/**
 * `@infram/trust-proxy/proxy-addr`: the API of proxy-addr 2.0.8, for code that calls proxy-addr
 * directly and cannot change its answers yet.
 *
 * It gives proxy-addr's results exactly, raw header text included: a malformed entry such as
 * `unknown` is returned as it was written, lenient address forms (`010.0.0.1`, `0x7f000001`) are
 * read as ipaddr.js 1.9.1 reads them, and zones are ignored when matching. That is what makes it
 * a safe drop-in, and also why new code should use the core instead (`resolveClientIp`), which
 * returns only canonical addresses and refuses those forms. Like 2.0.8, and unlike 2.0.7, an
 * IPv6 range only covers IPv4 addresses when it is an IPv4-mapped range of prefix 96 or longer
 * (`::ffff:10.0.0.0/104`); `::ffff:10.0.0.0/8` or `::/1` never trusted all of IPv4.
 *
 * What it adds: trust lists are compiled into the core's sorted interval sets (one binary search
 * per hop instead of one comparison per range), a trust list passed as a string or array is
 * compiled once and reused instead of on every call, and the header is read lazily from the
 * right, so a padded X-Forwarded-For costs only the hops that are walked.
 *
 * One departure, for inputs Node never produces: an X-Forwarded-For given as an array of header
 * lines is read as the lines joined with ", " (Node's own joining), where proxy-addr throws a
 * TypeError from inside its header parser.
 */
import { NAMED_RANGES } from '../named-ranges.js'
import { type Cidr, RangeSet, maskBits } from '../ranges.js'
import { legacyAddress, parseLegacy } from './legacy-ip.js'

// The public types are @types/proxy-addr's (`string`, `string[]`, `(addr: string, i) => boolean`),
// so that code typed against proxy-addr compiles unchanged after the swap. As with proxy-addr,
// the run time can differ in one case those types leave out: a socket with no address (closed,
// or a Unix socket) gives `undefined` as the address, the trust functions' `addr` included.
// The core's `resolveClientIp` is typed `string | undefined`; new code should use it.

/** A compiled trust function, as `proxyaddr.compile` returns it: `(addr, i) => boolean`. */
export type ProxyAddrTrustFunction = (addr: string, i: number) => boolean

/** The trust functions inside: they are also asked about a missing socket address. */
type Trust = (addr: string | undefined, i: number) => boolean

/** What `trust` may be: a function, an address, range or name, or a list of them. */
export type ProxyAddrTrust = ((addr: string, i: number) => unknown) | string | readonly string[]

/** The parts of a request proxy-addr reads. */
export interface ProxyAddrRequest {
  headers: { [name: string]: string | string[] | undefined }
  socket?: { remoteAddress?: string | undefined } | null | undefined
  connection?: { remoteAddress?: string | undefined } | null | undefined
}

/**
 * proxy-addr's names: the core's table (named-ranges.ts) without `private`, which proxy-addr
 * does not know (there it is an invalid IP address, as it must stay for the drop-in).
 */
const PROXY_ADDR_NAMES: { [name: string]: readonly string[] } = {
  linklocal: NAMED_RANGES.linklocal,
  loopback: NAMED_RANGES.loopback,
  uniquelocal: NAMED_RANGES.uniquelocal,
}

const hasOwn = Object.prototype.hasOwnProperty
const DIGITS = /^[0-9]+$/

// ---------------------------------------------------------------------------------------------
// compile

function trustNone(): boolean {
  return false
}

/**
 * Compiles a trust list (an address, CIDR, netmask range or name, or an array of them) into a
 * trust function, with proxy-addr's argument checks and error messages:
 * `argument is required`, `unsupported trust argument`, `invalid IP address: <addr>` and
 * `invalid range on address: <entry>`, all TypeErrors.
 */
function compile(val: string | readonly string[]): Trust {
  if (!val) throw new TypeError('argument is required')
  let list: unknown[]
  if (typeof val === 'string') list = [val]
  else if (Array.isArray(val)) list = val.slice()
  else throw new TypeError('unsupported trust argument')

  // Names first, for every entry; then each entry in order, so the first bad one is reported.
  const entries: unknown[] = []
  for (let i = 0; i < list.length; i++) {
    const item = list[i]
    if (hasOwn.call(PROXY_ADDR_NAMES, item as PropertyKey)) entries.push(...PROXY_ADDR_NAMES[item as string]!)
    else entries.push(item)
  }
  const cidrs: Cidr[] = []
  for (const entry of entries) {
    const cidr = parseEntry(entry)
    if (cidr !== null) cidrs.push(cidr)
  }
  if (entries.length === 0) return trustNone
  const set = new RangeSet(cidrs)
  return function trust(addr: string | undefined): boolean {
    if (!parseLegacy(addr)) return false
    return legacyAddress.family === 4 ? set.has4(legacyAddress.v4) : set.has6(legacyAddress.w0, legacyAddress.w1, legacyAddress.w2, legacyAddress.w3, '')
  }
}

/**
 * One trust entry, `address[/prefix or netmask]`, as a CIDR; null for an IPv4-mapped range
 * shorter than /96, which 2.0.8 accepts but lets match nothing (it would otherwise span IPv4
 * addresses that the range's own text never named).
 */
function parseEntry(entry: unknown): Cidr | null {
  // Not a string: proxy-addr calls string methods on it and fails with a TypeError; so do we.
  const note = entry as string
  const slash = note.lastIndexOf('/')
  const address = slash !== -1 ? note.substring(0, slash) : note
  if (!parseLegacy(address)) throw new TypeError('invalid IP address: ' + address)
  const { family, mapped, v4 } = legacyAddress
  const w: [number, number, number, number] = [legacyAddress.w0, legacyAddress.w1, legacyAddress.w2, legacyAddress.w3]
  // A bare IPv4-mapped address is the IPv4 host; with a prefix it stays an IPv6 range.
  const ipv6 = family === 6 || (mapped && slash !== -1)
  const max = ipv6 ? 128 : 32
  const suffix = slash !== -1 ? note.substring(slash + 1, note.length) : null
  let prefix: number | null
  if (suffix === null) prefix = max
  else if (DIGITS.test(suffix)) prefix = parseInt(suffix, 10)
  else if (!ipv6 && parseLegacy(suffix)) prefix = legacyAddress.family === 4 && !legacyAddress.mapped ? netmaskPrefix(legacyAddress.v4) : null
  else prefix = null
  if (prefix === null || prefix <= 0 || prefix > max) throw new TypeError('invalid range on address: ' + note)

  if (!ipv6) return { family: 4, v4, w: [0, 0, 0, 0], prefix, zone: '' }
  if (mapped) return prefix >= 96 ? { family: 4, v4, w: [0, 0, 0, 0], prefix: prefix - 96, zone: '' } : null
  // Zones are ignored when matching, as in proxy-addr: `fe80::1%eth0` trusts fe80::1 on any link.
  return { family: 6, v4: 0, w, prefix, zone: '' }
}

/** The prefix length of a contiguous IPv4 netmask, or null. */
function netmaskPrefix(mask: number): number | null {
  for (let bits = 0; bits <= 32; bits++) if (maskBits(bits) === mask) return bits
  return null
}

/**
 * Compiled trust lists by value, so that `proxyaddr(req, 'loopback')` on every request does not
 * re-parse the list. Arrays are keyed by identity and re-checked element by element, because a
 * caller may change an array between calls.
 */
const byString = new Map<string, Trust>()
const byArray = new WeakMap<readonly unknown[], { items: unknown[]; fn: Trust }>()
const MAX_CACHED_STRINGS = 256

function compileCached(trust: unknown): Trust {
  if (typeof trust === 'string') {
    let fn = byString.get(trust)
    if (fn === undefined) {
      fn = compile(trust)
      if (byString.size >= MAX_CACHED_STRINGS) byString.clear()
      byString.set(trust, fn)
    }
    return fn
  }
  if (Array.isArray(trust)) {
    const hit = byArray.get(trust)
    if (hit !== undefined && sameItems(hit.items, trust)) return hit.fn
    const fn = compile(trust)
    byArray.set(trust, { items: trust.slice(), fn })
    return fn
  }
  return compile(trust as string)
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k] || !(k in b)) return false
  return true
}

// ---------------------------------------------------------------------------------------------
// Reading the request

/** The X-Forwarded-For text and the socket address, read as proxy-addr reads them. */
function readRequest(req: ProxyAddrRequest): void {
  if (!req) throw new TypeError('argument req is required')
  const value: unknown = req.headers['x-forwarded-for'] || ''
  cursorText = typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : ''
  cursor = cursorText.length
  socketAddress = req.socket ? req.socket.remoteAddress : req.connection!.remoteAddress
}

let cursorText = ''
let cursor = 0
let socketAddress: string | undefined

/**
 * The next X-Forwarded-For entry leftwards, or undefined: items between commas with spaces
 * (only spaces) trimmed from both ends, empty items skipped, everything else kept as written.
 */
function previousEntry(): string | undefined {
  const s = cursorText
  let end = cursor
  while (end > 0) {
    let k = end - 1
    while (k >= 0 && s.charCodeAt(k) !== 44 /* , */) k--
    let a = k + 1
    let b = end
    while (a < b && s.charCodeAt(a) === 32) a++
    while (b > a && s.charCodeAt(b - 1) === 32) b--
    end = k
    if (a < b) {
      cursor = end
      return s.slice(a, b)
    }
  }
  cursor = 0
  return undefined
}

/**
 * The walk: from the socket address leftwards while `trust(addr, i)` holds. The left-most entry is
 * never passed to `trust` (there is nothing further to decide), as in proxy-addr. When `out` is
 * given, every address visited is appended to it.
 */
function walk(trust: (addr: string | undefined, i: number) => unknown, out: (string | undefined)[] | null): string | undefined {
  let current = socketAddress
  if (out !== null) out.push(current)
  let next = previousEntry()
  for (let i = 0; next !== undefined; i++) {
    // The user's function may itself call proxyaddr(): keep this walk's cursor.
    const text = cursorText
    const at = cursor
    const trusted = trust(current, i)
    cursorText = text
    cursor = at
    if (!trusted) break
    current = next
    if (out !== null) out.push(current)
    next = previousEntry()
  }
  return current
}

function trustFunction(trust: unknown): (addr: string | undefined, i: number) => unknown {
  return typeof trust === 'function' ? (trust as (addr: string | undefined, i: number) => unknown) : compileCached(trust)
}

// ---------------------------------------------------------------------------------------------
// The API

/**
 * Every address of the request, socket first, then X-Forwarded-For from right to left; with
 * `trust`, only up to and including the first address that is not trusted.
 */
function all(req: ProxyAddrRequest, trust?: ProxyAddrTrust): (string | undefined)[] {
  readRequest(req)
  const out: (string | undefined)[] = []
  if (!trust) {
    out.push(socketAddress)
    for (let entry = previousEntry(); entry !== undefined; entry = previousEntry()) out.push(entry)
    return out
  }
  walk(trustFunction(trust), out)
  return out
}

/**
 * The address of the client: the first address, from the socket leftwards through
 * X-Forwarded-For, that `trust` does not trust (or the left-most one when all are trusted).
 */
function proxyaddr(req: ProxyAddrRequest, trust: ProxyAddrTrust): string | undefined {
  if (!req) throw new TypeError('req argument is required')
  if (!trust) throw new TypeError('trust argument is required')
  readRequest(req)
  return walk(trustFunction(trust), null)
}

export interface ProxyAddr {
  /** The client address (`undefined` at run time only for a socket with no address, as in proxy-addr). */
  (req: ProxyAddrRequest, trust: ProxyAddrTrust): string
  /**
   * Every address of the request, socket first, then X-Forwarded-For from right to left; with
   * `trust`, only up to and including the first address that is not trusted.
   */
  all(req: ProxyAddrRequest, trust?: ProxyAddrTrust): string[]
  /** Compiles a trust list (an address, CIDR, netmask range or name, or an array of them). */
  compile(val: string | readonly string[]): ProxyAddrTrustFunction
}

// CommonJS: require('@infram/trust-proxy/proxy-addr') must return the function itself, as
// require('proxy-addr') does. So this entry point has a default export and nothing else at run
// time: the CommonJS build then sets `module.exports` to the function (checked by a test).
const api = proxyaddr as unknown as ProxyAddr
api.all = all as ProxyAddr['all']
api.compile = compile

export default api
