/**
 * Strict dotted-decimal IPv4 (see ip.ts for why strict), and the reasons its text is refused,
 * which the policy's errors name.
 */
import { ParsedAddress } from './ip-address.js'

/** Why {@link scanIPv4} refused its text: its negative results, which the policy's errors name. */
export const IPV4_INVALID = -1
/** Fewer than four octets: inet_aton's shorthand (`127.1`). */
export const IPV4_SHORT = -2
/** An octet with a leading zero (octal to inet_aton). */
export const IPV4_LEADING_ZERO = -3
/** An octet above 255, or of four digits. */
export const IPV4_OCTET_RANGE = -4
/** A hexadecimal octet (`0x7f`). */
export const IPV4_HEX = -5

/**
 * Strict dotted-decimal IPv4 starting at i: four octets, each 0-255, no leading zero (a leading
 * zero means octal to inet_aton, so `010.0.0.1` would be 8.0.0.1 to some readers). Stops after
 * the fourth octet and returns where it stopped (the caller checks what follows), with the value
 * in `out.v4`; or one of the negative `IPV4_*` codes saying why the text is not one.
 */
export function scanIPv4(out: ParsedAddress, s: string, i: number, end: number): number {
  let value = 0
  for (let octets = 0; ; ) {
    if (i >= end) return IPV4_INVALID
    const octetStart = i
    let c = s.charCodeAt(i++)
    if (c < 48 || c > 57) return IPV4_INVALID
    let octet = c - 48
    if (i < end) {
      c = s.charCodeAt(i)
      if (c >= 48 && c <= 57) {
        if (octet === 0) return IPV4_LEADING_ZERO
        octet = octet * 10 + c - 48
        i++
        if (i < end) {
          c = s.charCodeAt(i)
          if (c >= 48 && c <= 57) {
            octet = octet * 10 + c - 48
            if (octet > 255) return IPV4_OCTET_RANGE
            i++
          }
        }
      }
    }
    value = (value << 8) | octet
    if (++octets === 4) {
      out.v4 = value
      return i
    }
    if (i >= end) return IPV4_SHORT
    if (s.charCodeAt(i) !== 46 /* . */) return afterOctet(s, octetStart, i)
    i++
  }
}

/** Why the character at i cannot follow the octet that starts at octetStart. */
function afterOctet(s: string, octetStart: number, i: number): number {
  const c = s.charCodeAt(i)
  if (c >= 48 && c <= 57) return IPV4_OCTET_RANGE // a fourth digit
  if ((c | 0x20) === 120 /* x */ && i === octetStart + 1 && s.charCodeAt(octetStart) === 48) return IPV4_HEX
  return IPV4_INVALID
}

/** The address {@link parseIPv4} scans into: its own, read before it returns. */
const ipv4Scratch = new ParsedAddress()

/**
 * Strict dotted-decimal IPv4 filling exactly i..end: the unsigned value, or a negative `IPV4_*`
 * code. For callers that need only the number; the request path uses {@link scanIPv4}.
 */
export function parseIPv4(s: string, i: number, end: number): number {
  const stop = scanIPv4(ipv4Scratch, s, i, end)
  if (stop === end) return ipv4Scratch.v4 >>> 0
  if (stop < 0) return stop
  // Text after the fourth octet: say what is wrong with the octet it extends.
  let octetStart = stop
  while (octetStart > i && s.charCodeAt(octetStart - 1) !== 46) octetStart--
  return afterOctet(s, octetStart, stop)
}
