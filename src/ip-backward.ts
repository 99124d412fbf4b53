/**
 * Reading one address right to left, from the end of a list item back to the comma before it,
 * in one pass: the fast paths of the X-Forwarded-For reader, and of the socket peer (a whole
 * string is an item with no comma before it).
 *
 * They accept plain text only (strict dotted IPv4; IPv6 hex groups with at most one `::`, with
 * spaces and tabs around), and only what `parseAddress` accepts, with the same canonical text
 * (test/properties.test.ts checks both ways). Anything else gives -2, and the caller reads the
 * item the general way.
 */
import { MAX_ITEM_LENGTH, type ParsedAddress, hexValue, isOWS, setIPv4 } from './ip.js'

/**
 * Whether the item between the comma at k (-1: the start of the header) and end is longer than
 * MAX_ITEM_LENGTH, the bound every reader applies (the fast paths scan no further than it, then
 * check it here).
 */
function overLong(end: number, k: number): boolean {
  return end - k - 1 > MAX_ITEM_LENGTH
}

/**
 * Reads the item that ends at `end` (exclusive) as a plain dotted IPv4 address, right to left.
 * On success the address is in `out` and the result is the index of the comma before it (-1 at
 * the start of the header); anything else gives -2.
 */
export function readIPv4Item(out: ParsedAddress, s: string, end: number): number {
  const stop = end - MAX_ITEM_LENGTH - 1
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
  out.v4 = v
  setIPv4(out, s, a, b)
  return k
}

/**
 * The IPv6 counterpart of {@link readIPv4Item}: reads the item that ends at `end` as a plain
 * IPv6 address (hex groups and at most one `::`), right to left. Returns the index of the comma
 * before it (-1 at the start) with the address in `out`, or -2 for anything else (brackets, a
 * port, a zone, a dotted tail, an IPv4-mapped or unspecified address, junk).
 */
export function readIPv6Item(out: ParsedAddress, s: string, end: number): number {
  const stop = end - MAX_ITEM_LENGTH - 1
  let k = end - 1
  while (k >= 0 && k > stop && isOWS(s.charCodeAt(k))) k--
  const b = k + 1
  // The groups go into out.groups right to left from index 7 while the "::" is unknown: they
  // are moved into place at the end.
  const g = out.groups
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
    g[7 - n++] = v
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
  // g[8-n..7] hold the groups in order; the gapAt right-most of them follow the "::". Move the
  // ones left of it to the front and zero the run between.
  if (gapAt >= 0) {
    const left = n - gapAt
    for (let j = 0; j < left; j++) g[j] = g[8 - n + j]!
    for (let j = left; j < 8 - gapAt; j++) g[j] = 0
  }
  const w0 = (g[0]! << 16) | g[1]!
  const w1 = (g[2]! << 16) | g[3]!
  const w2 = (g[4]! << 16) | g[5]!
  const w3 = (g[6]! << 16) | g[7]!
  // IPv4-mapped text and the unspecified address go the general way (rare in a header).
  if ((w0 | w1) === 0 && (w2 === 0xffff || (w2 | w3) === 0)) return -2
  out.family = 6
  out.w0 = w0
  out.w1 = w1
  out.w2 = w2
  out.w3 = w3
  out.input = s
  out.zoneStart = out.zoneEnd = 0
  out.textStart = a
  out.textEnd = b
  out.plainText = canonical && (digitBits & 0x20) !== 0
  out.gapAt = gapAt < 0 ? -1 : n - gapAt
  out.groupsWritten = n
  return k
}
