/**
 * The host a client asked for (`Host`, `:authority`, `X-Forwarded-Host`, Forwarded `host=`), as
 * RFC 3986 (section 3.2.2) and RFC 1123 (section 2.1) define a host, with an optional port.
 *
 * Why strict: the host lands in audit records, redirects and links. A value that no resolver or
 * browser would read as a host (`..`, `-`, `a..example.com`, a 200-character label, `[::]`) is
 * something a client wrote to see what breaks, so it is refused (and reported as an anomaly by
 * the caller) rather than passed on.
 *
 * The rules, decided in docs/configuration-edges.md:
 * - a name is dot-separated labels of 1-63 letters, digits, `-` and `_`, no label starting or
 *   ending with `-`, at most 253 characters, and at most one trailing dot (an absolute name);
 *   `_` is allowed because Docker and Compose service names use it;
 * - a name whose last label is all digits is an IPv4 literal and must be one (strict dotted
 *   decimal, not 0.0.0.0): `127.1` and `0x7f.0.0.1` are the shorthand forms that resolvers and
 *   URL parsers read as other addresses;
 * - an IPv6 literal is in brackets, is an address that names a host (not `[::]`), and carries no
 *   zone (RFC 6874 zones need percent-encoding, which no proxy writes); `[v1.x]` (IPvFuture) is refused;
 * - a port is `:` and 1-5 digits up to 65535.
 */
import { ParsedAddress, isHost, isPort, parseIPv4, parseIPv6 } from './ip.js'

/** The address {@link isValidHost} parses an IPv6 literal into: its own, read before it returns. */
const literal = new ParsedAddress()

/** RFC 1035: a name is at most 255 octets on the wire, 253 characters as text. */
export const MAX_HOST_NAME = 253
/** RFC 1035: a label is 1-63 octets. */
export const MAX_LABEL = 63

/**
 * True for `host[:port]`: a DNS name, a strict IPv4 address, or a bracketed IPv6 address, then
 * an optional port. Nothing else (no spaces, path, userinfo, quotes, empty labels) can reach an
 * audit record.
 */
export function isValidHost(h: string): boolean {
  if (typeof h !== 'string') return false
  // A server sees the same few hosts on every request: the last two valid ones are not checked
  // again. Two, because a request behind a proxy has two (its Host, the proxy's own address, and
  // the X-Forwarded-Host the client asked for), checked alternately: one would never hit.
  if (h === lastValid || h === otherValid) return true
  if (!checkHost(h)) return false
  otherValid = lastValid
  lastValid = h
  return true
}

/** The last two hosts {@link isValidHost} accepted ('' is never valid). */
let lastValid = ''
let otherValid = ''

function checkHost(h: string): boolean {
  const n = h.length
  if (n === 0) return false
  let i: number
  if (h.charCodeAt(0) === 91 /* [ */) {
    const close = h.indexOf(']')
    if (close < 0) return false
    // parseIPv6 accepts a zone and the unspecified address; a host literal has neither.
    if (h.lastIndexOf('%', close) > 0 || !parseIPv6(literal, h, 1, close) || !isHost(literal)) return false
    i = close + 1
  } else {
    i = hostNameEnd(h, n)
    if (i < 0) return false
  }
  return i === n || isPort(h, i, n)
}

/**
 * Where the name (or IPv4 literal) at the start of h ends: the index of the `:` before a port,
 * or n; -1 when it is not a valid name.
 */
function hostNameEnd(h: string, n: number): number {
  let i = 0
  let labelStart = 0
  let numeric = true
  let lastNumeric = false
  for (; i < n; i++) {
    const c = h.charCodeAt(i)
    if (c === 58 /* : */) break
    if (c === 46 /* . */) {
      if (!labelOk(h, labelStart, i)) return -1
      lastNumeric = numeric
      labelStart = i + 1
      numeric = true
    } else if (c < 48 || c > 57) {
      if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 /* - */ || c === 95 /* _ */)) return -1
      numeric = false
    }
  }
  // A name may end with one dot (an absolute name); otherwise its last label ends at i.
  const absolute = i > 0 && labelStart === i
  if (!absolute) {
    if (!labelOk(h, labelStart, i)) return -1
    lastNumeric = numeric
  }
  if ((absolute ? i - 1 : i) > MAX_HOST_NAME) return -1
  // A numeric last label makes the name an IPv4 literal (to resolvers and URL parsers): it must
  // be a real one, written in strict dotted decimal, and without a trailing dot.
  if (lastNumeric && (absolute || parseIPv4(h, 0, i) <= 0)) return -1
  return i
}

/** A label of 1-63 characters that does not start or end with a hyphen. */
function labelOk(h: string, a: number, b: number): boolean {
  return b > a && b - a <= MAX_LABEL && h.charCodeAt(a) !== 45 && h.charCodeAt(b - 1) !== 45
}
