/**
 * One IP address: parsing by hand, and its canonical text.
 *
 * Why by hand: this runs for every hop of every request. A regex or a general-purpose parser
 * (ipaddr.js) costs microseconds and allocates; scanning char codes costs nanoseconds and
 * allocates nothing until the caller asks for the canonical string of the one address it returns.
 *
 * Why strict: the text in a forwarding header is written by whoever sent it. Every lenient form a
 * parser accepts (inet_aton's `127.1`, octal `010.0.0.1`, hex `0x7f.0.0.1`) is a second spelling
 * that one component may read differently from another, which is how trust checks get bypassed.
 * So only the forms that `inet_pton` accepts are addresses, plus the port and bracket decorations
 * that proxies really write (`1.2.3.4:5678`, `[2001:db8::1]:443`).
 *
 * The parser writes its result into the module-level scratch record {@link P} instead of
 * returning an object, so that the per-request path allocates nothing. It is not re-entrant:
 * read P before the next call to {@link parseAddress}.
 */

/** The parsed address of the last successful {@link parseAddress} call. */
export const P = {
  /** 4 or 6. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is reported as 4: it is that IPv4 host. */
  family: 4 as 4 | 6,
  /** IPv4 value as an unsigned 32-bit integer (family 4). */
  v4: 0,
  /** IPv6 value as four unsigned 32-bit words, most significant first (family 6). */
  w0: 0,
  w1: 0,
  w2: 0,
  w3: 0,
  /** Zone of a link-local IPv6 address, as offsets into the parsed string; zs === ze when none. */
  zs: 0,
  ze: 0,
  /** The address text (without brackets, port or zone) as offsets into the parsed string. */
  as: 0,
  ae: 0,
  /** True when the text between as and ae is already canonical (plain dotted IPv4). */
  plain: false,
}

/** The longest entry text we will look at. A real `[IPv6%zone]:port` is far shorter. */
export const MAX_ENTRY_LENGTH = 128
/** Zones are interface names or numbers; Linux caps names at 15 bytes. */
const MAX_ZONE_LENGTH = 64

const G = new Uint16Array(8)

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/**
 * Strict dotted-decimal IPv4 between i and end, or -1. Four octets, each 0-255, no leading zero
 * (a leading zero means octal to inet_aton, so `010.0.0.1` would be 8.0.0.1 to some readers).
 */
export function parseIPv4(s: string, i: number, end: number): number {
  let value = 0
  let octets = 0
  while (true) {
    if (i >= end) return -1
    let c = s.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    let octet = c - 48
    let digits = 1
    i++
    while (i < end) {
      c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      if (octet === 0 || digits === 3) return -1
      octet = octet * 10 + (c - 48)
      digits++
      i++
    }
    if (octet > 255) return -1
    value = value * 256 + octet
    octets++
    if (octets === 4) return i === end ? value : -1
    if (i >= end || s.charCodeAt(i) !== 46 /* . */) return -1
    i++
  }
}

/** RFC 4291 text form between i and end into G; false when it is not one. */
function parseIPv6Groups(s: string, i: number, end: number): boolean {
  let n = 0
  let gap = -1
  if (i < end && s.charCodeAt(i) === 58 /* : */) {
    if (i + 1 >= end || s.charCodeAt(i + 1) !== 58) return false
    gap = 0
    i += 2
  }
  while (i < end) {
    if (n === 8) return false
    const groupStart = i
    let v = 0
    let digits = 0
    while (i < end) {
      const h = hexValue(s.charCodeAt(i))
      if (h < 0) break
      if (++digits > 4) return false
      v = v * 16 + h
      i++
    }
    if (digits === 0) return false
    if (i < end && s.charCodeAt(i) === 46 /* . */) {
      // An embedded IPv4 address may only fill the last 32 bits.
      if (n > 6) return false
      const v4 = parseIPv4(s, groupStart, end)
      if (v4 < 0) return false
      G[n++] = v4 >>> 16
      G[n++] = v4 & 0xffff
      i = end
      break
    }
    G[n++] = v
    if (i === end) break
    if (s.charCodeAt(i) !== 58) return false
    i++
    if (i < end && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false
      gap = n
      i++
    } else if (i === end) {
      return false
    }
  }
  if (gap >= 0) {
    // "::" stands for at least one group of zeros.
    if (n === 8) return false
    const tail = n - gap
    for (let k = 0; k < tail; k++) G[7 - k] = G[n - 1 - k]!
    for (let k = gap; k < 8 - tail; k++) G[k] = 0
  } else if (n !== 8) {
    return false
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
 * IPv6 address with an optional zone, between i and end, into P. Accepts the unspecified
 * address (a range may start there); {@link parseAddress} is the one that refuses it as a host.
 */
export function parseIPv6(s: string, i: number, end: number): boolean {
  let zone = -1
  for (let k = i; k < end; k++) {
    if (s.charCodeAt(k) === 37 /* % */) {
      zone = k
      break
    }
  }
  const addrEnd = zone < 0 ? end : zone
  if (!parseIPv6Groups(s, i, addrEnd)) return false
  P.as = i
  P.ae = addrEnd
  P.plain = false
  if (zone >= 0) {
    // A zone must be a plain interface name or number: anything else could smuggle text
    // (spaces, colons, quotes) into an audit record.
    const zlen = end - zone - 1
    if (zlen === 0 || zlen > MAX_ZONE_LENGTH) return false
    for (let k = zone + 1; k < end; k++) if (!isZoneChar(s.charCodeAt(k))) return false
  }
  const g = G
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    // IPv4-mapped: the same host as the IPv4 address, so it is matched and shown as IPv4.
    P.family = 4
    P.v4 = g[6]! * 65536 + g[7]!
    P.zs = P.ze = 0
    return true
  }
  P.family = 6
  P.w0 = (g[0]! * 65536 + g[1]!) >>> 0
  P.w1 = (g[2]! * 65536 + g[3]!) >>> 0
  P.w2 = (g[4]! * 65536 + g[5]!) >>> 0
  P.w3 = (g[6]! * 65536 + g[7]!) >>> 0
  // A zone only means something on a link-local address (fe80::/10); elsewhere it is dropped.
  if (zone >= 0 && (g[0]! & 0xffc0) === 0xfe80) {
    P.zs = zone + 1
    P.ze = end
  } else {
    P.zs = P.ze = 0
  }
  return true
}

/**
 * Parses one address as proxies write it, between offsets i and end of s (already trimmed):
 * `a.b.c.d`, `a.b.c.d:port`, an IPv6 address with optional `%zone`, `[IPv6]` or `[IPv6]:port`.
 * Fills {@link P} and returns true, or returns false for anything else, including the
 * unspecified addresses `0.0.0.0` and `::`, which never name a host.
 */
export function parseAddress(s: string, i: number, end: number): boolean {
  if (i >= end || end - i > MAX_ENTRY_LENGTH) return false
  const first = s.charCodeAt(i)
  if (first === 91 /* [ */) {
    let close = -1
    for (let k = i + 1; k < end; k++) {
      if (s.charCodeAt(k) === 93 /* ] */) {
        close = k
        break
      }
    }
    if (close < 0) return false
    if (close + 1 !== end && !isPort(s, close + 1, end)) return false
    return parseIPv6(s, i + 1, close) && isHost()
  }
  // IPv4 (optionally with a port) has exactly one colon at most; IPv6 has at least two.
  let colon = -1
  let colons = 0
  for (let k = i; k < end; k++) {
    if (s.charCodeAt(k) === 58) {
      if (colons++ === 0) colon = k
    }
  }
  if (colons >= 2) return parseIPv6(s, i, end) && isHost()
  let addrEnd = end
  if (colons === 1) {
    if (!isPort(s, colon, end)) return false
    addrEnd = colon
  }
  const v4 = parseIPv4(s, i, addrEnd)
  if (v4 <= 0) return false // -1 is not an address; 0.0.0.0 is no host
  P.family = 4
  P.v4 = v4
  P.zs = P.ze = 0
  P.as = i
  P.ae = addrEnd
  P.plain = true
  return true
}

/** False for the unspecified addresses `::` and `::ffff:0.0.0.0`: they never name a host. */
function isHost(): boolean {
  return P.family === 4 ? P.v4 !== 0 : (P.w0 | P.w1 | P.w2 | P.w3) !== 0
}

/** `:` followed by 1-5 digits up to 65535, between i (the colon) and end. */
function isPort(s: string, i: number, end: number): boolean {
  if (s.charCodeAt(i) !== 58 || end - i < 2 || end - i > 6) return false
  let v = 0
  for (let k = i + 1; k < end; k++) {
    const c = s.charCodeAt(k)
    if (c < 48 || c > 57) return false
    v = v * 10 + (c - 48)
  }
  return v <= 65535
}

/** Dotted-decimal text of an unsigned 32-bit IPv4 value. */
export function formatIPv4(v: number): string {
  return (v >>> 24) + '.' + ((v >>> 16) & 255) + '.' + ((v >>> 8) & 255) + '.' + (v & 255)
}

/**
 * RFC 5952 text of an IPv6 address given as four 32-bit words: lower case, no leading zeros,
 * the longest run of two or more zero groups (the first of equals) written as `::`.
 */
export function formatIPv6(w0: number, w1: number, w2: number, w3: number): string {
  G[0] = w0 >>> 16
  G[1] = w0 & 0xffff
  G[2] = w1 >>> 16
  G[3] = w1 & 0xffff
  G[4] = w2 >>> 16
  G[5] = w2 & 0xffff
  G[6] = w3 >>> 16
  G[7] = w3 & 0xffff
  let bestStart = -1
  let bestLen = 1
  for (let k = 0; k < 8; ) {
    if (G[k] !== 0) {
      k++
      continue
    }
    let e = k
    while (e < 8 && G[e] === 0) e++
    if (e - k > bestLen) {
      bestStart = k
      bestLen = e - k
    }
    k = e
  }
  let out = ''
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += '::'
      k += bestLen - 1
      continue
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':'
    out += G[k]!.toString(16)
  }
  return out
}

/** Canonical text of the address in {@link P}, which was parsed from s. */
export function formatParsed(s: string): string {
  if (P.family === 4) return P.plain ? s.slice(P.as, P.ae) : formatIPv4(P.v4)
  const text = formatIPv6(P.w0, P.w1, P.w2, P.w3)
  return P.zs === P.ze ? text : text + '%' + s.slice(P.zs, P.ze)
}

/**
 * The canonical form of one address, or undefined when the text is not an address.
 * IPv4-mapped IPv6 becomes dotted IPv4; IPv6 is RFC 5952; a zone is kept only on link-local
 * addresses; ports and brackets are removed. Surrounding spaces and tabs are ignored.
 */
export function canonicalizeIp(text: string): string | undefined {
  if (typeof text !== 'string') return undefined
  let i = 0
  let end = text.length
  while (i < end && isOWS(text.charCodeAt(i))) i++
  while (end > i && isOWS(text.charCodeAt(end - 1))) end--
  return parseAddress(text, i, end) ? formatParsed(text) : undefined
}

/** Optional white space of HTTP: space and horizontal tab. */
export function isOWS(c: number): boolean {
  return c === 32 || c === 9
}
