/**
 * One IP address: parsing by hand, and its canonical text.
 *
 * Why by hand: this runs for every hop of every request. A regex or a general-purpose parser
 * (ipaddr.js) costs microseconds and allocates; scanning char codes costs nanoseconds and
 * allocates nothing until the caller asks for the canonical string of the one address it returns.
 * When the text is already canonical (as proxies write it), that string is a slice of the input.
 *
 * Why strict: the text in a forwarding header is written by whoever sent it. Every lenient form a
 * parser accepts (inet_aton's `127.1`, octal `010.0.0.1`, hex `0x7f.0.0.1`) is a second spelling
 * that one component may read differently from another, which is how trust checks get bypassed.
 * So only the forms that `inet_pton` accepts are addresses, plus the port and bracket decorations
 * that proxies really write (`1.2.3.4:5678`, `[2001:db8::1]:443`).
 *
 * The parser writes its result into the module-level scratch record {@link P} instead of
 * returning an object, so that the per-request path allocates nothing. Every number in it is a
 * signed 32-bit integer (the bits of the address), which V8 keeps unboxed. It is not re-entrant:
 * read P before the next call to a parse function.
 */

/** The parsed address of the last successful parse. */
export const P = {
  /** 4 or 6. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is reported as 4: it is that IPv4 host. */
  family: 4 as 4 | 6,
  /** IPv4 value: the 32 bits as a signed integer (`>>> 0` for the unsigned value). */
  v4: 0,
  /** IPv6 value: four 32-bit words, most significant first, as signed integers. */
  w0: 0,
  w1: 0,
  w2: 0,
  w3: 0,
  /** Zone of a link-local IPv6 address, as offsets into the parsed string; zs === ze when none. */
  zs: 0,
  ze: 0,
  /** Where the address text is in the parsed string (without brackets, port or zone). */
  as: 0,
  ae: 0,
  /**
   * True when the text between as and ae is already the canonical form; for IPv6, when it is
   * canonical unless its "::" is in the wrong place, which {@link formatParsed} checks only for
   * the one address it formats (the trusted hops of a walk never need their text).
   */
  plain: false,
  /** IPv6: the group index of the "::" in the text (-1 for none), and the groups written. */
  gap: -1,
  groups: 8,
}

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

/** The eight 16-bit groups of the last IPv6 address parsed. */
export const G = new Int32Array(8)

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
 * the fourth octet and returns where it stopped (the caller checks what follows), or -1. The
 * value goes to P.v4.
 */
export function scanIPv4(s: string, i: number, end: number): number {
  let value = 0
  for (let octets = 0; ; ) {
    if (i >= end) return -1
    let c = s.charCodeAt(i++)
    if (c < 48 || c > 57) return -1
    let octet = c - 48
    if (i < end) {
      c = s.charCodeAt(i)
      if (c >= 48 && c <= 57) {
        if (octet === 0) return -1
        octet = octet * 10 + c - 48
        i++
        if (i < end) {
          c = s.charCodeAt(i)
          if (c >= 48 && c <= 57) {
            octet = octet * 10 + c - 48
            if (octet > 255) return -1
            i++
          }
        }
      }
    }
    value = (value << 8) | octet
    if (++octets === 4) {
      P.v4 = value
      return i
    }
    if (i >= end || s.charCodeAt(i) !== 46 /* . */) return -1
    i++
  }
}

/**
 * Strict dotted-decimal IPv4 filling exactly i..end: the unsigned value, or -1. For
 * configuration-time callers; the request path uses {@link scanIPv4}.
 */
export function parseIPv4(s: string, i: number, end: number): number {
  return scanIPv4(s, i, end) === end ? P.v4 >>> 0 : -1
}

/**
 * IPv6 with an optional zone, between i and end, into P. Accepts the unspecified address (a
 * range may start there); {@link parseAddress} is the one that refuses it as a host.
 */
export function parseIPv6(s: string, i: number, end: number): boolean {
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
      if (scanIPv4(s, start, te) !== te) return false
      G[n++] = P.v4 >>> 16
      G[n++] = P.v4 & 0xffff
      tail = start
      k = te
      break
    }
    if (k - start > 1 && s.charCodeAt(start) === 48) canonical = false
    G[n++] = v
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
    for (let m = 1; m <= moved; m++) G[8 - m] = G[n - m]!
    for (let m = gap; m < 8 - moved; m++) G[m] = 0
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
  P.as = i
  P.ae = addrEnd
  P.zs = P.ze = 0
  const g = G
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    // IPv4-mapped: the same host as the IPv4 address, so it is matched and shown as IPv4. Its
    // dotted tail, when it has one, is that address's canonical text already.
    // A zone names an interface of a link-local IPv6 address; on the IPv4 host it would be
    // dropped unseen, so `::ffff:127.0.0.1%eth0` is refused like `127.0.0.1%eth0`.
    if (addrEnd < end) return false
    P.family = 4
    P.v4 = (g[6]! << 16) | g[7]!
    P.plain = tail >= 0
    if (tail >= 0) P.as = tail
    return true
  }
  P.family = 6
  P.w0 = (g[0]! << 16) | g[1]!
  P.w1 = (g[2]! << 16) | g[3]!
  P.w2 = (g[4]! << 16) | g[5]!
  P.w3 = (g[6]! << 16) | g[7]!
  // Canonical (RFC 5952) text compresses exactly the longest run of two or more zero groups, the
  // first of equal runs; then the input slice is the answer and no string needs building.
  P.plain = canonical && tail < 0
  P.gap = gap
  P.groups = n
  // A zone only means something on a link-local address (fe80::/10); elsewhere it is dropped.
  if (addrEnd < end && (g[0]! & 0xffc0) === 0xfe80) {
    P.zs = addrEnd + 1
    P.ze = end
  }
  return true
}

/**
 * Whether the IPv6 text just parsed compresses exactly the run RFC 5952 compresses: the longest
 * run of two or more zero groups, the first of equal runs (G still holds its groups).
 */
function compressedAsRfc5952(): boolean {
  const gap = P.gap
  return gap === longestZeroRun(G) && (gap < 0 || 8 - P.groups === zeroRunLength(G, gap))
}

/** Start of the RFC 5952 run to compress (longest of two or more zero groups, first of equals), or -1. */
function longestZeroRun(g: Int32Array): number {
  let best = -1
  let bestLen = 1
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++
      continue
    }
    const start = k
    while (k < 8 && g[k] === 0) k++
    if (k - start > bestLen) {
      best = start
      bestLen = k - start
    }
  }
  return best
}

function zeroRunLength(g: Int32Array, at: number): number {
  let k = at
  while (k < 8 && g[k] === 0) k++
  return k - at
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
 * Fills {@link P} and returns true, or returns false for anything else, including the
 * unspecified addresses `0.0.0.0` and `::`, which never name a host.
 */
export function parseAddress(s: string, i: number, end: number): boolean {
  if (end - i > MAX_ENTRY_LENGTH || i >= end) return false
  if (s.charCodeAt(i) === 91 /* [ */) {
    let close = i + 1
    while (close < end && s.charCodeAt(close) !== 93 /* ] */) close++
    if (close === end) return false
    if (close + 1 !== end && !isPort(s, close + 1, end)) return false
    return parseIPv6(s, i + 1, close) && isHost()
  }
  // Most entries are IPv4: try that first, in one pass.
  const stop = scanIPv4(s, i, end)
  if (stop === end || (stop > 0 && isPort(s, stop, end))) {
    if (P.v4 === 0) return false // 0.0.0.0 is no host
    P.family = 4
    P.zs = P.ze = 0
    P.as = i
    P.ae = stop
    P.plain = true
    return true
  }
  return parseIPv6(s, i, end) && isHost()
}

/** False for the unspecified addresses `::` and `::ffff:0.0.0.0`: they never name a host. */
function isHost(): boolean {
  return P.family === 4 ? P.v4 !== 0 : (P.w0 | P.w1 | P.w2 | P.w3) !== 0
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

/** Dotted-decimal text of an IPv4 value (signed or unsigned 32-bit). */
export function formatIPv4(v: number): string {
  return (v >>> 24) + '.' + ((v >>> 16) & 255) + '.' + ((v >>> 8) & 255) + '.' + (v & 255)
}

/** Hex text of 0..255 without leading zeros, and with two digits. */
const HEX1: string[] = []
const HEX2: string[] = []
for (let b = 0; b < 256; b++) {
  HEX1.push(b.toString(16))
  HEX2.push(b.toString(16).padStart(2, '0'))
}

function hexGroup(g: number): string {
  const hi = g >>> 8
  return hi === 0 ? HEX1[g]! : HEX1[hi]! + HEX2[g & 255]!
}

/**
 * RFC 5952 text of an IPv6 address given as four 32-bit words: lower case, no leading zeros,
 * the longest run of two or more zero groups (the first of equals) written as `::`.
 */
export function formatIPv6(w0: number, w1: number, w2: number, w3: number): string {
  const g = G
  g[0] = w0 >>> 16
  g[1] = w0 & 0xffff
  g[2] = w1 >>> 16
  g[3] = w1 & 0xffff
  g[4] = w2 >>> 16
  g[5] = w2 & 0xffff
  g[6] = w3 >>> 16
  g[7] = w3 & 0xffff
  const best = longestZeroRun(g)
  let out = ''
  const leftEnd = best < 0 ? 8 : best
  for (let k = 0; k < leftEnd; k++) out += (k === 0 ? '' : ':') + hexGroup(g[k]!)
  if (best < 0) return out
  out += '::'
  const rightStart = best + zeroRunLength(g, best)
  for (let k = rightStart; k < 8; k++) out += (k === rightStart ? '' : ':') + hexGroup(g[k]!)
  return out
}

/** Canonical text of the address in {@link P}, which was parsed from s. */
export function formatParsed(s: string): string {
  if (P.plain && (P.family === 4 || compressedAsRfc5952())) return s.slice(P.as, P.zs === P.ze ? P.ae : P.ze)
  if (P.family === 4) return formatIPv4(P.v4)
  const text = formatIPv6(P.w0, P.w1, P.w2, P.w3)
  return P.zs === P.ze ? text : text + '%' + s.slice(P.zs, P.ze)
}

/**
 * The canonical form of one address, or undefined when the text is not an address.
 * IPv4-mapped IPv6 becomes dotted IPv4; IPv6 is RFC 5952; a zone is kept only on link-local
 * addresses (and refused on an IPv4-mapped one); ports and brackets are removed. Surrounding
 * spaces and tabs are ignored, up to {@link MAX_ITEM_LENGTH} characters in all.
 */
export function canonicalizeIp(text: string): string | undefined {
  if (typeof text !== 'string') return undefined
  return parseItem(text, 0, text.length) ? formatParsed(text) : undefined
}

/**
 * Parses the item between i and end as {@link parseAddress} does, after dropping the spaces and
 * tabs around it; an item longer than {@link MAX_ITEM_LENGTH}, white space included, is never an
 * address. Every reader of a single item goes through here (or checks the same bound while it
 * scans from the right), so the bound is the same on every path.
 */
export function parseItem(s: string, i: number, end: number): boolean {
  if (end - i > MAX_ITEM_LENGTH) return false
  while (i < end && isOWS(s.charCodeAt(i))) i++
  while (end > i && isOWS(s.charCodeAt(end - 1))) end--
  return parseAddress(s, i, end)
}

/** A copy of the parser's scratch state, for callers that run user code between parse and use. */
export function saveScratch(): [typeof P, Int32Array] {
  return [{ ...P }, G.slice()]
}

export function restoreScratch(saved: [typeof P, Int32Array]): void {
  Object.assign(P, saved[0])
  G.set(saved[1])
}

/** Optional white space of HTTP: space and horizontal tab. */
export function isOWS(c: number): boolean {
  return c === 32 || c === 9
}
