/**
 * One TRUST_PROXY range entry in numeric form: `addr`, `addr/prefix`, `a.b.c.d/netmask`,
 * `fe80::1%zone`, parsed with the request path's own address parsers (ip.ts) so that an entry
 * means exactly the addresses the walk will match against it. Runs at configuration time: the
 * result goes into a {@link RangeSet}, and every failure is a {@link TrustProxyError} naming the
 * entry and the rule it broke.
 */
import { ParsedAddress, parseIPv4, parseIPv6 } from './ip.js'
import { compressedAsRfc5952, formatIPv4, formatIPv6 } from './ip-text.js'
import { type TrustProxyErrorReason, TrustProxyError, ipv4Problem } from './policy-error.js'
import { type Cidr, maskBits } from './range-math.js'

/** A range entry, compiled. */
export interface RangeEntry {
  cidr: Cidr
  /** The canonical text (`10.0.0.0/8`, `2001:db8::/32`, `fe80::%eth0/64`). */
  text: string
  /** The entry had host bits set (`10.0.0.1/8`): it was normalised. */
  hostBits: boolean
}

/** The address {@link parseRangeInto} parses into: its own, read before it returns. */
const parsed = new ParsedAddress()

/**
 * A range entry in numeric form, filled in place by {@link parseRangeInto}: a long list is
 * parsed cold, where an object (and an array of words) per entry is what the garbage collector
 * spends its time on.
 */
export class RangeScratch {
  family: 4 | 6 = 4
  /** The network (family 4), unsigned. */
  v4 = 0
  /** The network words (family 6), unsigned. */
  w0 = 0
  w1 = 0
  w2 = 0
  w3 = 0
  prefix = 0
  zone = ''
  /** The entry had host bits set (`10.0.0.1/8`): it was normalised. */
  hostBits = false
}

function fail(entry: string, position: number, reason: TrustProxyErrorReason, problem: string): never {
  throw new TrustProxyError(reason, entry, position, problem)
}

/** Whether s[from, to) is one or more ASCII digits. */
function allDigits(s: string, from: number, to: number): boolean {
  if (from >= to) return false
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** Whether s[0, end) reads as `host:port` (digits and dots, one colon, digits): `10.0.0.1:80`. */
function isHostPort(s: string, end: number): boolean {
  let i = 0
  while (i < end && (s.charCodeAt(i) === 46 || (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57))) i++
  if (i === 0 || i >= end || s.charCodeAt(i) !== 58) return false
  return i + 1 === end || allDigits(s, i + 1, end)
}

/** One address or range entry of a list, or a {@link TrustProxyError} for `entry` at `position`. */
export function parseRangeEntry(entry: string, position: number): RangeEntry {
  const r = new RangeScratch()
  const text = parseRangeInto(r, entry, position)
  const cidr: Cidr =
    r.family === 4
      ? { family: 4, v4: r.v4, w: [0, 0, 0, 0], prefix: r.prefix, zone: '' }
      : { family: 6, v4: 0, w: [r.w0, r.w1, r.w2, r.w3], prefix: r.prefix, zone: r.zone }
  return { cidr, text, hostBits: r.hostBits }
}

/**
 * {@link parseRangeEntry} into `out`, returning the canonical text: the entry read by index,
 * without slicing it, a closure or an object per entry.
 */
export function parseRangeInto(out: RangeScratch, entry: string, position: number): string {
  const slash = entry.indexOf('/')
  const aEnd = slash < 0 ? entry.length : slash
  const colon = entry.indexOf(':')
  const pct = entry.indexOf('%')
  const zoned = pct >= 0 && pct < aEnd
  let family: 4 | 6
  let value4 = 0
  let w0 = 0
  let w1 = 0
  let w2 = 0
  let w3 = 0
  let zone = ''
  let mapped = false
  if (colon >= 0 && colon < aEnd) {
    // An IPv6 address has two colons or more, so `host:port` (one) and `[...]` are never one:
    // they are told apart once parsing has failed.
    if (!parseIPv6(parsed, entry, 0, aEnd)) {
      if (entry.charCodeAt(0) === 91 || isHostPort(entry, aEnd)) fail(entry, position, 'port-not-allowed', 'a trusted entry is an address or range, without brackets or a port')
      if (zoned && parseIPv6(parsed, entry, 0, pct)) {
        // The address is fine without its zone; an IPv4-mapped one takes none at all.
        if (parsed.family === 4) fail(entry, position, 'zone-not-link-local', 'a zone (%name) is only meaningful on a link-local address (fe80::/10), not on an IPv4-mapped one')
        fail(entry, position, 'zone-invalid', 'a zone is an interface name or number made of letters, digits and . _ ~ -')
      }
      fail(entry, position, 'invalid-address', 'not an IPv6 address')
    }
    if (zoned) {
      zone = entry.slice(pct + 1, aEnd)
      if (parsed.zoneStart === parsed.zoneEnd) fail(entry, position, 'zone-not-link-local', 'a zone (%name) is only meaningful on a link-local address (fe80::/10)')
    }
    if (parsed.family === 4) {
      mapped = true
      value4 = parsed.v4 >>> 0
      w2 = 0xffff
      w3 = value4
    } else {
      w0 = parsed.w0 >>> 0
      w1 = parsed.w1 >>> 0
      w2 = parsed.w2 >>> 0
      w3 = parsed.w3 >>> 0
    }
    family = 6
  } else {
    if (zoned) fail(entry, position, 'zone-not-link-local', 'a zone (%name) is only meaningful on a link-local IPv6 address')
    const v = parseIPv4(entry, 0, aEnd)
    if (v < 0) {
      const [reason, problem] = ipv4Problem(v, entry.slice(0, aEnd))
      fail(entry, position, reason, problem)
    }
    family = 4
    value4 = v
  }

  const bits = family === 4 ? 32 : 128
  let prefix = bits
  let digitSuffix = false
  if (slash >= 0) {
    const from = slash + 1
    const to = entry.length
    if (allDigits(entry, from, to)) {
      digitSuffix = true
      if (to - from > 1 && entry.charCodeAt(from) === 48) fail(entry, position, 'prefix-invalid', 'a prefix length has no leading zeros')
      prefix = 0
      for (let i = from; i < to && prefix <= bits; i++) prefix = prefix * 10 + entry.charCodeAt(i) - 48
      if (prefix > bits) fail(entry, position, 'prefix-range', `a prefix length is 0-${bits} for ${family === 4 ? 'IPv4' : 'IPv6'}`)
    } else {
      const suffix = entry.slice(from)
      if (suffix.includes('.') || suffix.includes(':')) {
        if (family === 6 || suffix.includes(':')) fail(entry, position, 'netmask-not-ipv4', 'netmasks are accepted for IPv4 only; write IPv6 ranges with a prefix length')
        const m = parseIPv4(suffix, 0, suffix.length)
        if (m < 0) fail(entry, position, 'netmask-noncontiguous', 'the netmask is not a dotted IPv4 mask')
        let n = 0
        while (n < 32 && maskBits(n + 1) === ((m & maskBits(n + 1)) >>> 0)) n++
        if (maskBits(n) !== m) fail(entry, position, 'netmask-noncontiguous', 'the netmask is not contiguous (its one bits must come first)')
        prefix = n
      } else {
        fail(entry, position, 'prefix-invalid', 'the part after "/" is neither a prefix length nor a netmask')
      }
    }
  }
  if (mapped && prefix < 96) fail(entry, position, 'mapped-prefix', mappedPrefixProblem(value4, prefix, [w0, w1, w2, w3]))
  if (zone !== '' && prefix < 10) fail(entry, position, 'zone-not-link-local', 'a zoned range must lie inside fe80::/10')

  // An IPv6 range inside ::ffff:0:0/96 means the IPv4 range it maps.
  if (mapped) {
    family = 4
    prefix -= 96
  }
  // One address that is the unspecified one (0.0.0.0, ::, also as /32, /128, a full netmask or
  // ::ffff:0.0.0.0) names no host, and its canonical text would be refused: refuse it here.
  if (family === 4 ? prefix === 32 && value4 === 0 : prefix === 128 && (w0 | w1 | w2 | w3) === 0) {
    fail(entry, position, 'unspecified-address', 'the unspecified address never connects to anything; for all addresses write 0.0.0.0/0 or ::/0')
  }
  out.family = family
  out.prefix = prefix
  out.zone = zone
  if (family === 4) {
    const net = (value4 & maskBits(prefix)) >>> 0
    const hostBits = net !== value4
    out.v4 = net
    out.hostBits = hostBits
    // Strict IPv4 text is canonical already: reuse it unless normalising changed something.
    const asWritten = !mapped && !hostBits && (slash < 0 || (prefix !== 32 && digitSuffix))
    return asWritten ? entry : formatIPv4(net) + (prefix === 32 ? '' : '/' + prefix)
  }
  const n0 = (w0 & maskBits(prefix)) >>> 0
  const n1 = (w1 & maskBits(prefix - 32)) >>> 0
  const n2 = (w2 & maskBits(prefix - 64)) >>> 0
  const n3 = (w3 & maskBits(prefix - 96)) >>> 0
  out.w0 = n0
  out.w1 = n1
  out.w2 = n2
  out.w3 = n3
  const hostBits = n0 !== w0 || n1 !== w1 || n2 !== w2 || n3 !== w3
  out.hostBits = hostBits
  // RFC 5952 text as written (as in provider lists) is the canonical text already: reuse it
  // unless normalising changed something, as for IPv4. (An IPv4-mapped entry was IPv4 above.)
  const asWritten = !hostBits && (slash < 0 || (prefix !== 128 && digitSuffix)) && parsed.plainText && compressedAsRfc5952(parsed)
  return asWritten ? entry : formatIPv6(n0, n1, n2, n3) + (zone ? '%' + zone : '') + (prefix === 128 ? '' : '/' + prefix)
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
