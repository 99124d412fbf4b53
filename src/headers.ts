/**
 * Forwarding headers, read from the right.
 *
 * The right end of X-Forwarded-For (and of Forwarded) is what our own proxies wrote; the left
 * end is whatever the client sent. So the cursor here starts at the right and yields one entry at
 * a time, never splitting the header into an array: a request costs as many entries as the walk
 * trusts, whatever a client stuffs on the left.
 *
 * Like `ip`, the cursor keeps its state in module-level scratch variables so that the hot path
 * allocates nothing. It is not re-entrant: one walk at a time (JavaScript runs one at a time).
 */
import { G, MAX_ITEM_LENGTH, P, formatParsed, hexValue, isOWS, parseAddress } from './ip.js'

/** Which header carries the client address. */
export type HeaderMode = 0 | 1 | 2
/** `X-Forwarded-For`: comma-separated addresses, the right-most appended by the nearest proxy. */
export const MODE_XFF: HeaderMode = 0
/** RFC 7239 `Forwarded`: comma-separated elements, each with `for=`, `proto=`, `host=`, `by=`. */
export const MODE_FORWARDED: HeaderMode = 1
/** A header holding one address (`X-Real-IP`, `CF-Connecting-IP`, `True-Client-IP`). */
export const MODE_SINGLE: HeaderMode = 2

/** An X-Forwarded-For item longer than this (white space included) cannot be an address. */
const MAX_ITEM = MAX_ITEM_LENGTH
/** A Forwarded element longer than this is not one a proxy wrote (host names are <= 255). */
const MAX_ELEMENT = 1024

/** The cursor. */
export const C = {
  /** The text the current entry is in, and its bounds (trimmed). */
  s: '',
  start: 0,
  end: 0,
  /** The current entry cannot be an address (empty, too long, unbalanced quotes, bad syntax). */
  bad: false,
  /** There is no entry to the left of the current one. */
  last: false,
  /**
   * The current entry's start could not be found (an item longer than an address can be, an
   * unbalanced quote, a giant Forwarded element): its bounds are empty and the reading stops.
   * Read by the walk trace (trace.ts) to say why an entry is malformed.
   */
  cut: false,
}

let text = ''
let pos = -1
let mode: HeaderMode = MODE_XFF

/**
 * Starts a walk over a header value: a string, an array of header lines (read as if joined
 * with commas, in order), or undefined. Returns false when the header holds no entries at all
 * (absent, or only white space).
 */
export function openHeader(value: unknown, m: HeaderMode): boolean {
  mode = m
  if (typeof value === 'string') {
    text = value
  } else if (value === undefined || value === null) {
    pos = -1
    return false
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      pos = -1
      return false
    }
    // A single-IP header that arrives twice is ambiguous: which one did our proxy write?
    if (m === MODE_SINGLE && value.length > 1) text = '\u0000'
    else text = joinLines(value)
  } else {
    // Not something a request carries: read it as one entry that is not an address.
    text = '\u0000'
  }
  let k = 0
  while (k < text.length && isOWS(text.charCodeAt(k))) k++
  if (k === text.length) {
    pos = -1
    return false
  }
  pos = text.length
  return true
}

function joinLines(lines: readonly unknown[]): string {
  let out = ''
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]
    out += (k === 0 ? '' : ',') + (typeof line === 'string' ? line : '\u0000')
  }
  return out
}

/**
 * A copy of the cursor, for callers that run user code in the middle of a walk (a custom trust
 * function may itself resolve a request, which would move the cursor).
 */
export function saveCursor(): unknown[] {
  return [text, pos, mode, C.s, C.start, C.end, C.bad, C.last]
}

export function restoreCursor(saved: unknown[]): void {
  text = saved[0] as string
  pos = saved[1] as number
  mode = saved[2] as HeaderMode
  C.s = saved[3] as string
  C.start = saved[4] as number
  C.end = saved[5] as number
  C.bad = saved[6] as boolean
  C.last = saved[7] as boolean
}

/** Moves to the next entry leftwards. False when there is none. */
export function nextEntry(): boolean {
  if (pos < 0) return false
  if (mode === MODE_XFF) nextXff()
  else if (mode === MODE_FORWARDED) nextForwarded()
  else {
    C.s = text
    trimmed(0, text.length)
    pos = -1
  }
  C.last = pos < 0
  return true
}

/** Sets C to the item between a and b without its white space; empty or over-long is bad. */
function trimmed(a: number, b: number): void {
  const s = C.s
  const tooLong = b - a > MAX_ITEM
  while (a < b && isOWS(s.charCodeAt(a))) a++
  while (b > a && isOWS(s.charCodeAt(b - 1))) b--
  C.start = a
  C.end = b
  C.bad = a === b || tooLong
  C.cut = false
}

/** The text {@link openHeader} opened (after joining header lines). */
export function openedText(): string {
  return text
}

function nextXff(): void {
  pos = xffItem(text, pos)
}

/**
 * The general reading of the X-Forwarded-For item that ends at `end`: back to the previous comma,
 * but never further than an address can be long, so that a padded item costs no more than a real
 * one. Sets C (the trimmed bounds, and `bad` for an empty or over-long item) and returns the
 * comma's index, or -1 when nothing is left to the left.
 */
export function xffItem(s: string, end: number): number {
  C.s = s
  const stop = end - MAX_ITEM - 1
  let k = end - 1
  while (k > stop && k >= 0 && s.charCodeAt(k) !== 44 /* , */) k--
  if (k >= 0 && s.charCodeAt(k) !== 44) {
    // Too long to be an address; the walk stops here, so where it begins does not matter.
    C.start = C.end = 0
    C.bad = true
    C.cut = true
    return -1
  }
  trimmed(k + 1, end)
  return k
}

/**
 * Whether the item between the comma at k (-1: the start of the header) and end is longer than
 * {@link MAX_ITEM_LENGTH}, the bound every reader applies (the right-to-left readers scan no
 * further than it, then check it here).
 */
function overLong(end: number, k: number): boolean {
  return end - k - 1 > MAX_ITEM
}

/**
 * The fast path of the X-Forwarded-For walk: reads the item that ends at `end` (exclusive) as a
 * plain dotted IPv4 address, right to left, in the same pass that finds the comma before it.
 * On success the address is in P and the result is the index of that comma (-1 at the start of
 * the header). Anything else (IPv6, a port, junk) gives -2, and the caller reads the item the
 * general way: this only ever accepts what {@link parseAddress} accepts.
 */
export function readIPv4Item(s: string, end: number): number {
  const stop = end - MAX_ITEM - 1
  let k = end - 1
  while (k > stop && k >= 0 && isOWS(s.charCodeAt(k))) k--
  const b = k + 1
  let v = 0
  for (let shift = 0; ; shift += 8) {
    let c = k >= 0 ? s.charCodeAt(k) : 0
    if (c < 48 || c > 57) return -2
    let octet = c - 48
    c = --k >= 0 ? s.charCodeAt(k) : 0
    if (c >= 48 && c <= 57) {
      const tens = c - 48
      octet += tens * 10
      c = --k >= 0 ? s.charCodeAt(k) : 0
      if (c >= 48 && c <= 57) {
        // Three digits: no leading zero, at most 255, and no fourth digit.
        if (c === 48) return -2
        octet += (c - 48) * 100
        if (octet > 255) return -2
        c = --k >= 0 ? s.charCodeAt(k) : 0
        if (c >= 48 && c <= 57) return -2
      } else if (tens === 0) {
        return -2 // a leading zero: octal to some readers
      }
    }
    v |= octet << shift
    if (shift === 24) break
    if (c !== 46 /* . */) return -2
    k--
  }
  const a = k + 1
  while (k >= 0 && k > stop && isOWS(s.charCodeAt(k))) k--
  if (overLong(end, k) || (k >= 0 && s.charCodeAt(k) !== 44 /* , */)) return -2
  if (v === 0) return -2 // 0.0.0.0 is no host: let the general path call it malformed
  P.family = 4
  P.v4 = v
  P.zs = P.ze = 0
  P.as = a
  P.ae = b
  P.plain = true
  return k
}

/** Groups of an IPv6 item as read right to left by {@link readIPv6Item}. */
const R = new Int32Array(8)

/**
 * The IPv6 counterpart of {@link readIPv4Item}: reads the item that ends at `end` as a plain
 * IPv6 address (hex groups and at most one `::`), right to left, in the pass that finds the
 * comma before it. Returns that comma's index (-1 at the start) with the address in P and G, or -2
 * for anything else (brackets, a port, a zone, a dotted tail, an IPv4-mapped or unspecified
 * address, junk), which the caller then reads the general way.
 */
export function readIPv6Item(s: string, end: number): number {
  const stop = end - MAX_ITEM - 1
  let k = end - 1
  while (k >= 0 && k > stop && isOWS(s.charCodeAt(k))) k--
  const b = k + 1
  let n = 0
  let gapAt = -1
  let canonical = true
  let digitBits = 0xff
  if (k >= 1 && s.charCodeAt(k) === 58 && s.charCodeAt(k - 1) === 58) {
    // The text ends with "::".
    gapAt = 0
    k -= 2
    if (k < 0 || hexValue(s.charCodeAt(k)) < 0) return -2
  }
  let c = 0
  for (;;) {
    let v = 0
    let digits = 0
    while (k >= 0) {
      c = s.charCodeAt(k)
      const h = hexValue(c)
      if (h < 0) break
      if (digits === 4) return -2
      v |= h << (digits << 2)
      digitBits &= c
      digits++
      k--
    }
    if (digits === 0 || n === 8) return -2
    if (digits > 1 && s.charCodeAt(k + 1) === 48) canonical = false
    R[n++] = v
    if (k < 0 || c !== 58 /* : */) break
    if (--k >= 0 && s.charCodeAt(k) === 58) {
      if (gapAt >= 0) return -2
      gapAt = n
      k--
      if (k < 0 || hexValue(s.charCodeAt(k)) < 0) break // the text starts with "::"
    } else if (k < 0 || hexValue(s.charCodeAt(k)) < 0) {
      return -2
    }
  }
  const a = k + 1
  while (k >= 0 && k > stop && isOWS(s.charCodeAt(k))) k--
  if (overLong(end, k) || (k >= 0 && s.charCodeAt(k) !== 44) || (gapAt < 0 ? n !== 8 : n > 7)) return -2
  // R holds the groups right to left: the gapAt right-most ones follow the "::".
  const left = gapAt < 0 ? n : n - gapAt
  for (let j = 0; j < left; j++) G[j] = R[n - 1 - j]!
  for (let j = left; j < 8; j++) G[j] = 0
  for (let j = 0; j < (gapAt < 0 ? 0 : gapAt); j++) G[7 - j] = R[j]!
  const w0 = (G[0]! << 16) | G[1]!
  const w1 = (G[2]! << 16) | G[3]!
  const w2 = (G[4]! << 16) | G[5]!
  const w3 = (G[6]! << 16) | G[7]!
  // IPv4-mapped text and the unspecified address go the general way (rare in a header).
  if ((w0 | w1) === 0 && (w2 === 0xffff || (w2 | w3) === 0)) return -2
  P.family = 6
  P.w0 = w0
  P.w1 = w1
  P.w2 = w2
  P.w3 = w3
  P.zs = P.ze = 0
  P.as = a
  P.ae = b
  P.plain = canonical && (digitBits & 0x20) !== 0
  P.gap = gapAt < 0 ? -1 : left
  P.groups = n
  return k
}

/** The parameters of the last Forwarded element parsed, as offsets into FW.s. */
export const FW = {
  s: '',
  /** The element parsed (its `for` may still be missing or not an address). */
  ok: false,
  forStart: -1,
  forEnd: -1,
  forEscaped: false,
  protoStart: -1,
  protoEnd: -1,
  hostStart: -1,
  hostEnd: -1,
  hostEscaped: false,
  protoEscaped: false,
}

function nextForwarded(): void {
  const s = text
  const end = pos
  const limit = end - MAX_ELEMENT
  let k = end - 1
  let quoted = false
  for (; k >= 0; k--) {
    if (k < limit) break
    const c = s.charCodeAt(k)
    if (quoted) {
      if (c === 34 /* " */) {
        let j = k - 1
        while (j >= 0 && s.charCodeAt(j) === 92 /* \ */) j--
        if ((k - 1 - j) % 2 === 0) quoted = false
      }
    } else if (c === 34) {
      quoted = true
    } else if (c === 44) {
      break
    }
  }
  if (quoted || (k >= 0 && k < limit)) {
    // An unbalanced quote or a giant element: nothing to its left can be read reliably.
    FW.ok = false
    C.s = s
    C.start = C.end = 0
    C.bad = true
    C.cut = true
    pos = -1
    return
  }
  pos = k
  FW.ok = parseForwardedElement(s, k + 1, end)
  if (!FW.ok || FW.forStart < 0) {
    // Not an address, but its bounds are kept: the walk trace shows the element as received.
    C.s = s
    trimmed(k + 1, end)
    C.bad = true
    return
  }
  if (FW.forEscaped) {
    C.s = unescape(s, FW.forStart, FW.forEnd)
    trimmed(0, C.s.length)
  } else {
    C.s = s
    trimmed(FW.forStart, FW.forEnd)
  }
}

/** RFC 7230 tchar. */
function isTchar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 33 || c === 35 || c === 36 || c === 37 || c === 38 || c === 39 || c === 42 ||
    c === 43 || c === 45 || c === 46 || c === 94 || c === 95 || c === 96 || c === 124 || c === 126
  )
}

/**
 * Parses one Forwarded element (`for=...;proto=...;host=...;by=...`) between a and b into FW.
 * False when it is not well formed: a parameter without `=`, a bad name, an unterminated quote,
 * text after a quoted value, or a repeated `for`, `proto` or `host` (RFC 7239 section 4: a
 * repeated parameter makes the element invalid, and picking either copy could pick the forged one).
 * Unquoted values are taken up to the next `;` and left to the address or host check, so that a
 * proxy writing `for=2001:db8::1` without the quotes RFC 7239 wants still works.
 */
export function parseForwardedElement(s: string, a: number, b: number): boolean {
  FW.s = s
  FW.forStart = FW.forEnd = FW.protoStart = FW.protoEnd = FW.hostStart = FW.hostEnd = -1
  FW.forEscaped = FW.protoEscaped = FW.hostEscaped = false
  let i = a
  while (i < b) {
    while (i < b && isOWS(s.charCodeAt(i))) i++
    if (i === b) break
    const nameStart = i
    while (i < b && isTchar(s.charCodeAt(i)) && s.charCodeAt(i) !== 61) i++
    if (i === nameStart || i >= b || s.charCodeAt(i) !== 61 /* = */) return false
    const nameEnd = i
    i++
    let vs: number
    let ve: number
    let escaped = false
    if (i < b && s.charCodeAt(i) === 34 /* " */) {
      i++
      vs = i
      while (i < b && s.charCodeAt(i) !== 34) {
        if (s.charCodeAt(i) === 92 /* \ */) {
          escaped = true
          i++
        }
        i++
      }
      if (i >= b) return false
      ve = i
      i++
      while (i < b && isOWS(s.charCodeAt(i))) i++
      if (i < b && s.charCodeAt(i) !== 59 /* ; */) return false
    } else {
      vs = i
      while (i < b && s.charCodeAt(i) !== 59) i++
      ve = i
      while (ve > vs && isOWS(s.charCodeAt(ve - 1))) ve--
      for (let k = vs; k < ve; k++) {
        const c = s.charCodeAt(k)
        if (c <= 32 || c === 34 || c >= 127) return false
      }
    }
    i++ // past ';'
    const len = nameEnd - nameStart
    if (len === 3 && matchesLower(s, nameStart, 'for')) {
      if (FW.forStart >= 0) return false
      FW.forStart = vs
      FW.forEnd = ve
      FW.forEscaped = escaped
    } else if (len === 5 && matchesLower(s, nameStart, 'proto')) {
      if (FW.protoStart >= 0) return false
      FW.protoStart = vs
      FW.protoEnd = ve
      FW.protoEscaped = escaped
    } else if (len === 4 && matchesLower(s, nameStart, 'host')) {
      if (FW.hostStart >= 0) return false
      FW.hostStart = vs
      FW.hostEnd = ve
      FW.hostEscaped = escaped
    }
  }
  return true
}

function matchesLower(s: string, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    if ((s.charCodeAt(at + k) | 0x20) !== word.charCodeAt(k)) return false
  }
  return true
}

/** The text of a quoted-string between a and b with its `\x` escapes resolved. */
export function unescape(s: string, a: number, b: number): string {
  let out = ''
  for (let k = a; k < b; k++) {
    if (s.charCodeAt(k) === 92 && k + 1 < b) k++
    out += s[k]
  }
  return out
}

/**
 * The right-most element of a Forwarded value, parsed into FW (for `proto=` and `host=`).
 * False when the header is absent or that element is malformed.
 */
export function forwardedRightmost(value: unknown): boolean {
  return openHeader(value, MODE_FORWARDED) && nextEntry() && FW.ok
}

/** The mode for a header name (lower case): X-Forwarded-For, Forwarded, or a single-IP header. */
export function modeOf(name: string): HeaderMode {
  return name === 'x-forwarded-for' ? MODE_XFF : name === 'forwarded' ? MODE_FORWARDED : MODE_SINGLE
}

/**
 * Every entry of a forwarding header value in header order (left-most first), canonical, with
 * undefined for an entry that is not an address. For diagnostics and audit tooling: resolving a
 * request never needs the whole list. Reading stops at an entry whose start cannot be found
 * (an over-long item, an unbalanced quote), which is listed as undefined.
 */
export function listEntries(value: unknown, header = 'x-forwarded-for'): (string | undefined)[] {
  const out: (string | undefined)[] = []
  if (!openHeader(value, modeOf(header.toLowerCase()))) return out
  while (nextEntry()) {
    out.push(!C.bad && parseAddress(C.s, C.start, C.end) ? formatParsed(C.s) : undefined)
  }
  return out.reverse()
}

/** Minimal Headers-like object: the Web `Headers` class and anything with `get(name)`. */
export interface HeadersLike {
  get(name: string): string | null
}

/** Node's `IncomingHttpHeaders`, or a Web `Headers` object. */
export type HeaderSource = HeadersLike | Record<string, string | string[] | undefined>

/**
 * One header by its lower-case name, from Node's header object or a Web `Headers`. Only own
 * properties are read, so a header named `__proto__` or `constructor` is just absent.
 */
export function getHeader(headers: unknown, name: string): string | string[] | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const get = (headers as HeadersLike).get
  if (typeof get === 'function' && !Array.isArray(headers)) {
    try {
      const v = get.call(headers, name)
      return typeof v === 'string' ? v : undefined
    } catch {
      return undefined
    }
  }
  if (!Object.prototype.hasOwnProperty.call(headers, name)) return undefined
  const v = (headers as Record<string, unknown>)[name]
  return typeof v === 'string' || Array.isArray(v) ? (v as string | string[]) : undefined
}
