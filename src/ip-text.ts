/**
 * The canonical text of an address: dotted IPv4, RFC 5952 IPv6 (lower case, no leading zeros,
 * the longest run of two or more zero groups, the first of equals, written as `::`), and a zone
 * only on a link-local address. The walk builds this string once, for the one address it returns;
 * when the input was canonical already (as proxies write it), the string is a slice of it.
 */
import { ParsedAddress, parseItem } from './ip.js'

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

/** The groups {@link formatIPv6} writes: its own, read before it returns. */
const groups = new Int32Array(8)

/** RFC 5952 text of an IPv6 address given as four 32-bit words. */
export function formatIPv6(w0: number, w1: number, w2: number, w3: number): string {
  const g = groups
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

/**
 * Whether the IPv6 text parsed into `a` compresses exactly the run RFC 5952 compresses (its
 * groups are still in `a.groups`).
 */
export function compressedAsRfc5952(a: ParsedAddress): boolean {
  const gap = a.gapAt
  return gap === longestZeroRun(a.groups) && (gap < 0 || 8 - a.groupsWritten === zeroRunLength(a.groups, gap))
}

/**
 * Canonical text of a parsed address. The common cases stay small enough for V8 to inline into
 * the walk (an IPv4 address as written, the whole string when it is the socket address); IPv6
 * and rewritten text are in {@link formatOther}.
 */
export function formatParsed(a: ParsedAddress): string {
  if (a.family === 4 && a.plainText) {
    const s = a.input
    // The socket address is the whole string: no slice (a builtin call) for it.
    return a.textStart === 0 && a.textEnd === s.length ? s : s.slice(a.textStart, a.textEnd)
  }
  return formatOther(a)
}

function formatOther(a: ParsedAddress): string {
  // IPv4 here was not written canonically (formatParsed took the rest).
  if (a.family === 4) return formatIPv4(a.v4)
  if (a.plainText && compressedAsRfc5952(a)) {
    return a.input.slice(a.textStart, a.zoneStart === a.zoneEnd ? a.textEnd : a.zoneEnd)
  }
  const text = formatIPv6(a.w0, a.w1, a.w2, a.w3)
  return a.zoneStart === a.zoneEnd ? text : text + '%' + a.input.slice(a.zoneStart, a.zoneEnd)
}

/** The address {@link canonicalizeIp} parses into: its own, read before it returns. */
const scratch = new ParsedAddress()

/**
 * The canonical form of one address, or undefined when the text is not an address.
 * IPv4-mapped IPv6 becomes dotted IPv4; IPv6 is RFC 5952; a zone is kept only on link-local
 * addresses (and refused on an IPv4-mapped one); ports and brackets are removed. Surrounding
 * spaces and tabs are ignored, up to `MAX_ITEM_LENGTH` characters in all.
 */
export function canonicalizeIp(text: string): string | undefined {
  if (typeof text !== 'string') return undefined
  return parseItem(scratch, text, 0, text.length) ? formatParsed(scratch) : undefined
}
