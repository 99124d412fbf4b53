/**
 * One IP address: parsing by hand. This module reads an entry as proxies write it (ports,
 * brackets, white space); the value is in ip-address.ts, the two text forms in ip-v4.ts and
 * ip-v6.ts, the canonical text in ip-text.ts, the right-to-left readers in ip-backward.ts.
 *
 * Why by hand: this runs for every hop of every request. A regex or a general-purpose parser
 * (ipaddr.js) costs microseconds and allocates; scanning char codes costs nanoseconds and
 * allocates nothing until the caller asks for the canonical string of the one address it returns
 * (ip-text.ts). When the text is already canonical (as proxies write it), that string is a slice
 * of the input.
 *
 * Why strict: the text in a forwarding header is written by whoever sent it. Every lenient form a
 * parser accepts (inet_aton's `127.1`, octal `010.0.0.1`, hex `0x7f.0.0.1`) is a second spelling
 * that one component may read differently from another, which is how trust checks get bypassed.
 * So only the forms that `inet_pton` accepts are addresses, plus the port and bracket decorations
 * that proxies really write (`1.2.3.4:5678`, `[2001:db8::1]:443`).
 *
 * The parsers write into a {@link ParsedAddress} the caller owns (a walk keeps two, preallocated),
 * instead of returning a new object, so that the per-request path allocates nothing. Every number
 * in it is a signed 32-bit integer (the bits of the address), which V8 keeps unboxed.
 */

import { MAX_ENTRY_LENGTH, MAX_ITEM_LENGTH, type ParsedAddress, isHost, isOWS, isPort, setIPv4 } from './ip-address.js'
import { scanIPv4 } from './ip-v4.js'
import { parseIPv6 } from './ip-v6.js'

// The address value and its helpers (ip-address.ts), IPv4 (ip-v4.ts) and IPv6 (ip-v6.ts), for
// the modules that read addresses from here.
export { MAX_ENTRY_LENGTH, MAX_ITEM_LENGTH, ParsedAddress, hexValue, isHost, isOWS, isPort, setIPv4 } from './ip-address.js'
export { IPV4_HEX, IPV4_INVALID, IPV4_LEADING_ZERO, IPV4_OCTET_RANGE, IPV4_SHORT, parseIPv4, scanIPv4 } from './ip-v4.js'
export { parseIPv6 } from './ip-v6.js'

/**
 * Parses one address as proxies write it, between offsets i and end of s (already trimmed):
 * `a.b.c.d`, `a.b.c.d:port`, an IPv6 address with optional `%zone`, `[IPv6]` or `[IPv6]:port`.
 * Fills `out` and returns true, or returns false for anything else, including the unspecified
 * addresses `0.0.0.0` and `::`, which never name a host.
 */
export function parseAddress(out: ParsedAddress, s: string, i: number, end: number): boolean {
  if (end - i > MAX_ENTRY_LENGTH || i >= end) return false
  if (s.charCodeAt(i) === 91 /* [ */) {
    let close = i + 1
    while (close < end && s.charCodeAt(close) !== 93 /* ] */) close++
    if (close === end) return false
    if (close + 1 !== end && !isPort(s, close + 1, end)) return false
    return parseIPv6(out, s, i + 1, close) && isHost(out)
  }
  // Most entries are IPv4: try that first, in one pass.
  const stop = scanIPv4(out, s, i, end)
  if (stop === end || (stop > 0 && isPort(s, stop, end))) {
    if (out.v4 === 0) return false // 0.0.0.0 is no host
    setIPv4(out, s, i, stop)
    return true
  }
  return parseIPv6(out, s, i, end) && isHost(out)
}

/**
 * Parses the item between i and end as {@link parseAddress} does, after dropping the spaces and
 * tabs around it; an item longer than {@link MAX_ITEM_LENGTH}, white space included, is never an
 * address. Every reader of a single item goes through here (or checks the same bound while it
 * scans from the right), so the bound is the same on every path.
 */
export function parseItem(out: ParsedAddress, s: string, i: number, end: number): boolean {
  if (end - i > MAX_ITEM_LENGTH) return false
  while (i < end && isOWS(s.charCodeAt(i))) i++
  while (end > i && isOWS(s.charCodeAt(end - 1))) end--
  return parseAddress(out, s, i, end)
}

/**
 * The socket address of an IPv4 client on a dual-stack listener (a server on `::`, Node's
 * default), as Node writes it: `::ffff:a.b.c.d`, lower-case, nothing around it. Reads it into
 * `out` as {@link parseAddress} does (family 4, the dotted part as its canonical text) in one
 * forward scan, and returns true; anything else is false, for {@link parseItem} to read. Why: on
 * such a server every IPv4 peer has this form, and the general parser reads it as IPv6 first.
 */
export function parseMappedIPv4(out: ParsedAddress, s: string): boolean {
  return s.startsWith('::ffff:') && readWholeIPv4(out, s, 7)
}

/**
 * Whether s, from `start` to its end, is a strict dotted IPv4 address naming a host, read into
 * `out` with that text as its canonical form. A forward scan with nothing around the address to
 * look for: small enough for V8 to inline into the walk (the socket address's fast path).
 * 0.0.0.0 is false: no host, which the general path calls malformed.
 */
export function readWholeIPv4(out: ParsedAddress, s: string, start: number): boolean {
  const end = s.length
  if (scanIPv4(out, s, start, end) !== end || out.v4 === 0) return false
  setIPv4(out, s, start, end)
  return true
}
