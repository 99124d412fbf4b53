/**
 * One TRUST_PROXY range entry in numeric form: `addr`, `addr/prefix`, `a.b.c.d/netmask`,
 * `fe80::1%zone`, parsed with the request path's own address parsers (ip.ts) so that an entry
 * means exactly the addresses the walk will match against it. Runs at configuration time: the
 * result goes into a {@link RangeSet}, and every failure is a {@link TrustProxyError} naming the
 * entry and the rule it broke.
 */
import { ParsedAddress, parseIPv4, parseIPv6 } from './ip.js'
import { formatIPv4, formatIPv6 } from './ip-text.js'
import { type TrustProxyErrorReason, TrustProxyError, ipv4Problem } from './policy-error.js'
import { type Cidr, maskBits } from './ranges.js'

/** A range entry, compiled. */
export interface RangeEntry {
  cidr: Cidr
  /** The canonical text (`10.0.0.0/8`, `2001:db8::/32`, `fe80::%eth0/64`). */
  text: string
  /** The entry had host bits set (`10.0.0.1/8`): it was normalised. */
  hostBits: boolean
}

/** The address {@link parseRangeEntry} parses into: its own, read before it returns. */
const parsed = new ParsedAddress()

const DIGITS = /^[0-9]+$/

/** One address or range entry of a list, or a {@link TrustProxyError} for `entry` at `position`. */
export function parseRangeEntry(entry: string, position: number): RangeEntry {
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
    if (!parseIPv6(parsed, addr, 0, addr.length)) {
      if (pct >= 0 && parseIPv6(parsed, addr, 0, pct)) {
        // The address is fine without its zone; an IPv4-mapped one takes none at all.
        if (parsed.family === 4) fail('zone-not-link-local', 'a zone (%name) is only meaningful on a link-local address (fe80::/10), not on an IPv4-mapped one')
        fail('zone-invalid', 'a zone is an interface name or number made of letters, digits and . _ ~ -')
      }
      fail('invalid-address', 'not an IPv6 address')
    }
    if (pct >= 0) {
      zone = addr.slice(pct + 1)
      if (parsed.zoneStart === parsed.zoneEnd) fail('zone-not-link-local', 'a zone (%name) is only meaningful on a link-local address (fe80::/10)')
    }
    if (parsed.family === 4) {
      mapped = true
      value4 = parsed.v4 >>> 0
      words = [0, 0, 0xffff, value4]
    } else {
      words = [parsed.w0 >>> 0, parsed.w1 >>> 0, parsed.w2 >>> 0, parsed.w3 >>> 0]
    }
    family = 6
  } else {
    if (addr.includes('%')) fail('zone-not-link-local', 'a zone (%name) is only meaningful on a link-local IPv6 address')
    const v = parseIPv4(addr, 0, addr.length)
    if (v < 0) fail(...ipv4Problem(v, addr))
    family = 4
    value4 = v
  }

  let prefix = family === 4 ? 32 : 128
  if (suffix !== undefined) {
    if (DIGITS.test(suffix)) {
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
  if (family === 4) {
    const net = (value4 & maskBits(prefix)) >>> 0
    const hostBits = net !== value4
    // Strict IPv4 text is canonical already: reuse it unless normalising changed something.
    const asWritten = !mapped && !hostBits && (suffix === undefined || (prefix !== 32 && DIGITS.test(suffix)))
    const text = asWritten ? entry : formatIPv4(net) + (prefix === 32 ? '' : '/' + prefix)
    return { cidr: { family: 4, v4: net, w: [0, 0, 0, 0], prefix, zone: '' }, text, hostBits }
  }
  const net = words.map((w, k) => (w & maskBits(prefix - 32 * k)) >>> 0) as [number, number, number, number]
  return {
    cidr: { family: 6, v4: 0, w: net, prefix, zone },
    text: formatIPv6(net[0], net[1], net[2], net[3]) + (zone ? '%' + zone : '') + (prefix === 128 ? '' : '/' + prefix),
    hostBits: net.some((w, k) => w !== words[k]),
  }
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
