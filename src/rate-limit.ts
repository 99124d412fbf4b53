/**
 * Rate-limit keys: the bucket a client address counts against.
 *
 * An IPv4 address is one bucket. An IPv6 address is not: one subscriber is routinely given a
 * whole /64 (often a /56 or /48), and a client that rotates through its own prefix would
 * otherwise get a fresh bucket per address. So an IPv6 address is masked to a subnet, and the
 * key is the subnet's network in canonical text with its prefix (`2001:db8:0:100::/56`),
 * exactly the key express-rate-limit 8's `ipKeyGenerator` makes (the tests compare them).
 * IPv4-mapped addresses (`::ffff:192.0.2.1`) are the IPv4 client they carry.
 *
 * Core module: no Node or framework imports.
 */
import { canonicalizeIp } from './ip.js'

/** The key of a request with no client address (a Unix-socket peer, a peer that could not be read). */
export const NO_ADDRESS_KEY = 'no-address'

/** The default IPv6 subnet, as express-rate-limit 8 (`ipv6Subnet: 56`). */
export const DEFAULT_IPV6_SUBNET = 56

export interface RateLimitKeyOptions {
  /**
   * The IPv6 prefix length a client is assumed to own, 0-128 (default 56, as express-rate-limit).
   * `false` (or 128) keys each IPv6 address on its own.
   */
  ipv6Subnet?: number | false
}

/**
 * Checks `options.ipv6Subnet` and returns the prefix to mask to (128: no masking). Throws a
 * TypeError for anything else: this runs when a key generator is made, at startup.
 */
export function ipv6SubnetOf(options: RateLimitKeyOptions | undefined, where = 'rateLimitKey'): number {
  const s = options?.ipv6Subnet
  if (s === undefined) return DEFAULT_IPV6_SUBNET
  if (s === false) return 128
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 128) {
    throw new TypeError(`${where}: options.ipv6Subnet must be an integer from 0 to 128, or false; got ${String(s)}`)
  }
  return s
}

/**
 * The rate-limit key of a client address: IPv4 as it is (canonical), IPv4-mapped IPv6 folded to
 * IPv4, IPv6 masked to `ipv6Subnet` bits as `network/prefix` (the zone, if any, dropped with the
 * host bits). Anything that is not an address (undefined included) is {@link NO_ADDRESS_KEY}:
 * such requests share one bucket, so they are limited, never exempt.
 *
 * ```js
 * rateLimitKey('2001:db8:0:1ff:abcd::1') // '2001:db8:0:100::/56'
 * rateLimitKey('::ffff:192.0.2.1')       // '192.0.2.1'
 * rateLimitKey(undefined)                // 'no-address'
 * ```
 *
 * Never throws for the address; throws a TypeError for a bad `ipv6Subnet` option.
 */
export function rateLimitKey(ip: string | undefined | null, options?: RateLimitKeyOptions): string {
  return keyOf(ip, ipv6SubnetOf(options))
}

/** {@link rateLimitKey} with the prefix already checked (for key generators). */
export function keyOf(ip: unknown, prefix: number): string {
  const canonical = typeof ip === 'string' ? canonicalizeIp(ip) : undefined
  if (canonical === undefined) return NO_ADDRESS_KEY
  if (canonical.indexOf(':') < 0 || prefix >= 128) return canonical
  return maskIPv6(canonical, prefix)
}

/** `network/prefix` of a canonical IPv6 address (lower-case hex groups, maybe `::`, maybe a zone). */
function maskIPv6(canonical: string, prefix: number): string {
  const zone = canonical.indexOf('%')
  const text = zone < 0 ? canonical : canonical.slice(0, zone)
  const groups = expand(text)
  for (let g = 0; g < 8; g++) {
    const keep = prefix - g * 16
    if (keep >= 16) continue
    groups[g] = keep <= 0 ? 0 : groups[g]! & ((0xffff << (16 - keep)) & 0xffff)
  }
  return `${compress(groups)}/${prefix}`
}

/** The eight 16-bit groups of an IPv6 address in canonical text (dotted IPv4 tail allowed). */
function expand(text: string): number[] {
  const out: number[] = []
  const dbl = text.indexOf('::')
  const head = dbl < 0 ? text : text.slice(0, dbl)
  const tail = dbl < 0 ? '' : text.slice(dbl + 2)
  const left = head === '' ? [] : groupsOf(head)
  const right = tail === '' ? [] : groupsOf(tail)
  out.push(...left)
  for (let n = 8 - left.length - right.length; n > 0; n--) out.push(0)
  out.push(...right)
  return out
}

function groupsOf(part: string): number[] {
  const out: number[] = []
  for (const g of part.split(':')) {
    if (g.indexOf('.') >= 0) {
      const o = g.split('.').map(Number)
      out.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!)
    } else {
      out.push(parseInt(g, 16))
    }
  }
  return out
}

/** RFC 5952 text: the longest run (the first of equals) of two or more zero groups becomes `::`. */
function compress(groups: number[]): string {
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}
