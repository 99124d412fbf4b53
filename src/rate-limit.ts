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
import { ParsedAddress, isOWS, parseAddress } from './ip.js'
import { formatIPv6, formatParsed } from './ip-text.js'

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

/** The address {@link keyOf} parses into: its own, read before it returns. */
const keyAddress = new ParsedAddress()

/** {@link rateLimitKey} with the prefix already checked (for key generators). */
export function keyOf(ip: unknown, prefix: number): string {
  if (typeof ip !== 'string') return NO_ADDRESS_KEY
  let a = 0
  let b = ip.length
  while (a < b && isOWS(ip.charCodeAt(a))) a++
  while (b > a && isOWS(ip.charCodeAt(b - 1))) b--
  const k = keyAddress
  if (!parseAddress(k, ip, a, b)) return NO_ADDRESS_KEY
  // IPv4, IPv4-mapped IPv6 (parsed as the IPv4 host it carries), or no masking: canonical text.
  if (k.family === 4 || prefix >= 128) return formatParsed(k)
  // The network of the subnet (host bits and zone dropped), as `network/prefix`.
  return `${formatIPv6(k.w0 & maskOf(prefix, 0), k.w1 & maskOf(prefix, 1), k.w2 & maskOf(prefix, 2), k.w3 & maskOf(prefix, 3))}/${prefix}`
}

/** The bits of 32-bit word `k` (0 = most significant) that a `/prefix` keeps. */
function maskOf(prefix: number, k: number): number {
  const bits = Math.max(0, Math.min(32, prefix - 32 * k))
  return bits === 0 ? 0 : bits === 32 ? -1 : -1 << (32 - bits)
}
