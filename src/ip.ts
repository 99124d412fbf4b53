/**
 * One IP address: parsing by hand.
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

/** One parsed address, filled in place by the parsers below. */
export class ParsedAddress {
  /** 4 or 6. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is reported as 4: it is that IPv4 host. */
  family: 4 | 6 = 4
  /** IPv4 value: the 32 bits as a signed integer (`>>> 0` for the unsigned value). */
  v4 = 0
  /** IPv6 value: four 32-bit words, most significant first, as signed integers. */
  w0 = 0
  w1 = 0
  w2 = 0
  w3 = 0
  /** The string the address was parsed from: the offsets below point into it. */
  input = ''
  /** Where the address text is in `input` (without brackets, port or zone). */
  textStart = 0
  textEnd = 0
  /** Zone of a link-local IPv6 address, as offsets into `input`; equal when there is none. */
  zoneStart = 0
  zoneEnd = 0
  /**
   * True when the text between textStart and textEnd is already the canonical form; for IPv6,
   * when it is canonical unless its "::" is in the wrong place, which `formatParsed` checks only
   * for the one address it formats (the trusted hops of a walk never need their text).
   */
  plainText = false
  /** IPv6: the group index of the "::" in the text (-1 for none), and how many groups were written. */
  gapAt = -1
  groupsWritten = 8
  /** IPv6: the eight 16-bit groups. */
  readonly groups = new Int32Array(8)
}

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

/** The longest entry text we will look at. A real `[IPv6%zone]:port` is far shorter. */
export const MAX_ENTRY_LENGTH = 128
/**
 * The longest item, white space around the entry included, that any reader looks at: one
 * bound for the header readers (left-to-right and right-to-left), the socket address, the
 * trust predicate and {@link canonicalizeIp}, so that padding on either side of an address is
 * judged the same way everywhere. Longer is never an address, whatever it holds.
 */
export const MAX_ITEM_LENGTH = MAX_ENTRY_LENGTH + 64
/** Zones are interface names or numbers; Linux caps names at 15 bytes. */
const MAX_ZONE_LENGTH = 64

/** Hex digit values by char code (below 128), -1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1)
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c
for (let c = 0; c < 6; c++) HEX_VALUE[97 + c] = HEX_VALUE[65 + c] = 10 + c

export function hexValue(c: number): number {
  return c < 128 ? HEX_VALUE[c]! : -1
}

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

/**
 * IPv6 with an optional zone, between i and end, into `out`. Accepts the unspecified address (a
 * range may start there); {@link parseAddress} is the one that refuses it as a host.
 */
export function parseIPv6(out: ParsedAddress, s: string, i: number, end: number): boolean {
  const g = out.groups
  let n = 0
  let gap = -1
  let canonical = true
  // The AND of every hex digit's char code: bit 0x20 is clear only if an upper-case A-F was seen.
  let digitBits = 0xff
  let tail = -1
  let k = i
  if (k < end && s.charCodeAt(k) === 58 /* : */) {
    if (k + 1 >= end || s.charCodeAt(k + 1) !== 58) return false
    gap = 0
    k += 2
  }
  while (k < end) {
    let c = s.charCodeAt(k)
    if (c === 37 /* % */) break
    if (n === 8) return false
    const start = k
    let v = 0
    let h = hexValue(c)
    while (h >= 0) {
      if (k - start === 4) return false
      digitBits &= c
      v = (v << 4) | h
      if (++k === end) break
      c = s.charCodeAt(k)
      h = hexValue(c)
    }
    if (k === start) return false
    if (k < end && c === 46 /* . */) {
      // An embedded IPv4 address may only fill the last 32 bits.
      if (n > 6) return false
      let te = k
      while (te < end && s.charCodeAt(te) !== 37) te++
      if (scanIPv4(out, s, start, te) !== te) return false
      g[n++] = out.v4 >>> 16
      g[n++] = out.v4 & 0xffff
      tail = start
      k = te
      break
    }
    if (k - start > 1 && s.charCodeAt(start) === 48) canonical = false
    g[n++] = v
    if (k === end || c === 37) break
    if (c !== 58) return false
    if (++k < end && s.charCodeAt(k) === 58) {
      if (gap >= 0) return false
      gap = n
      k++
    } else if (k === end || s.charCodeAt(k) === 37) {
      return false
    }
  }
  const addrEnd = k
  if ((digitBits & 0x20) === 0) canonical = false
  if (gap >= 0) {
    // "::" stands for at least one group of zeros.
    if (n === 8) return false
    const moved = n - gap
    for (let m = 1; m <= moved; m++) g[8 - m] = g[n - m]!
    for (let m = gap; m < 8 - moved; m++) g[m] = 0
  } else if (n !== 8) {
    return false
  }
  if (addrEnd < end) {
    // A zone must be a plain interface name or number: anything else could smuggle text
    // (spaces, colons, quotes) into an audit record.
    const zlen = end - addrEnd - 1
    if (zlen === 0 || zlen > MAX_ZONE_LENGTH) return false
    for (let z = addrEnd + 1; z < end; z++) if (!isZoneChar(s.charCodeAt(z))) return false
  }
  out.input = s
  out.textStart = i
  out.textEnd = addrEnd
  out.zoneStart = out.zoneEnd = 0
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    // IPv4-mapped: the same host as the IPv4 address, so it is matched and shown as IPv4. Its
    // dotted tail, when it has one, is that address's canonical text already.
    // A zone names an interface of a link-local IPv6 address; on the IPv4 host it would be
    // dropped unseen, so `::ffff:127.0.0.1%eth0` is refused like `127.0.0.1%eth0`.
    if (addrEnd < end) return false
    out.family = 4
    out.v4 = (g[6]! << 16) | g[7]!
    out.plainText = tail >= 0
    if (tail >= 0) out.textStart = tail
    return true
  }
  out.family = 6
  out.w0 = (g[0]! << 16) | g[1]!
  out.w1 = (g[2]! << 16) | g[3]!
  out.w2 = (g[4]! << 16) | g[5]!
  out.w3 = (g[6]! << 16) | g[7]!
  // Canonical (RFC 5952) text compresses exactly the longest run of two or more zero groups, the
  // first of equal runs; then the input slice is the answer and no string needs building.
  out.plainText = canonical && tail < 0
  out.gapAt = gap
  out.groupsWritten = n
  // A zone only means something on a link-local address (fe80::/10); elsewhere it is dropped.
  if (addrEnd < end && (g[0]! & 0xffc0) === 0xfe80) {
    out.zoneStart = addrEnd + 1
    out.zoneEnd = end
  }
  return true
}

function isZoneChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 46 /* . */ ||
    c === 95 /* _ */ ||
    c === 126 /* ~ */ ||
    c === 45 /* - */
  )
}

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

/** Records an IPv4 address (its value already in `out.v4`) written canonically between a and b of s. */
export function setIPv4(out: ParsedAddress, s: string, a: number, b: number): void {
  out.family = 4
  out.input = s
  out.zoneStart = out.zoneEnd = 0
  out.textStart = a
  out.textEnd = b
  out.plainText = true
}

/** False for the unspecified addresses `::` and `::ffff:0.0.0.0`: they never name a host. */
export function isHost(a: ParsedAddress): boolean {
  return a.family === 4 ? a.v4 !== 0 : (a.w0 | a.w1 | a.w2 | a.w3) !== 0
}

/** `:` followed by 1-5 digits up to 65535, between i (the colon) and end. */
export function isPort(s: string, i: number, end: number): boolean {
  if (s.charCodeAt(i) !== 58 || end - i < 2 || end - i > 6) return false
  let v = 0
  for (let k = i + 1; k < end; k++) {
    const c = s.charCodeAt(k)
    if (c < 48 || c > 57) return false
    v = v * 10 + (c - 48)
  }
  return v <= 65535
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

/** Optional white space of HTTP: space and horizontal tab. */
export function isOWS(c: number): boolean {
  return c === 32 || c === 9
}
