/**
 * The address syntax of ipaddr.js 1.9.1, the parser inside proxy-addr 2.0.8.
 *
 * The proxy-addr drop-in must trust exactly what proxy-addr trusts, and proxy-addr trusts
 * whatever ipaddr.js 1.9.1 reads as an address. That reader is far more lenient than the core's
 * (`src/ip.ts`), and the difference is the point of this file: proxy-addr users get proxy-addr's
 * answers, lenient forms included, while the core refuses them. The forms it accepts and the
 * core does not:
 *
 * - IPv4 as one number (`2130706433`, `0x7f000001`) or four parts, each decimal, hexadecimal
 *   (`0x7f`) or, with a leading zero, octal (`010` = 8, and `08` = 0: the octal reading stops at
 *   the first digit that is not octal; `0X7f` = 0: only a lower-case `x` means hexadecimal);
 * - IPv6 groups of any length with leading zeros (`00001::1`), a `::` that stands for no group
 *   at all (`1::2:3:4:5:6:7:8`), one trailing colon (`1:2:3:4:5:6:7:8:`), zones of letters and
 *   digits on any address, and dotted tails with hexadecimal parts (`::ffff:0x7f.0.0.1`);
 * - the unspecified addresses `0.0.0.0` and `::`.
 *
 * And some that look valid are not: `::1.2.3.4` and `1::1.2.3.4` (a dotted tail right after
 * `::`), zones with `-` or `.`, anything with white space, brackets or a port.
 *
 * Nothing here throws, and the work is linear in the length of the text.
 */
import { ParsedAddress, parseIPv6 } from '../ip.js'

/** The address of the last successful {@link parseLegacy} call (scratch, not re-entrant). */
export const legacyAddress = {
  /** 4 for IPv4 text and for IPv4-mapped IPv6 text; 6 for any other IPv6. */
  family: 4 as 4 | 6,
  /** True when the text was IPv6 in `::ffff:0:0/96` (then `family` is 4 and `v4` is the host). */
  mapped: false,
  v4: 0,
  w0: 0,
  w1: 0,
  w2: 0,
  w3: 0,
}

const G = new Array<number>(8).fill(0)

/** The core parser's result for the fast path of {@link parseLegacy}. */
const coreAddress = new ParsedAddress()

/**
 * Whether ipaddr.js 1.9.1's `isValid` accepts `s`; when it does, its value is in {@link legacyAddress}.
 * Non-strings are never addresses.
 */
export function parseLegacy(s: unknown): boolean {
  if (typeof s !== 'string') return false
  if (s.indexOf(':') < 0) return parseLegacyV4(s)
  // Fast path: the RFC 4291 forms without a dotted tail or zone are read the same way by both
  // parsers, and the core's reads them without allocating.
  const a = coreAddress
  if (s.indexOf('.') < 0 && s.indexOf('%') < 0 && parseIPv6(a, s, 0, s.length)) {
    if (a.family === 4) setMapped(a.v4)
    else setV6(a.w0, a.w1, a.w2, a.w3)
    return true
  }
  return parseLegacyV6(s)
}

function setMapped(v4: number): void {
  legacyAddress.family = 4
  legacyAddress.mapped = true
  legacyAddress.v4 = v4
}

function setV6(w0: number, w1: number, w2: number, w3: number): void {
  legacyAddress.family = 6
  legacyAddress.mapped = false
  legacyAddress.w0 = w0
  legacyAddress.w1 = w1
  legacyAddress.w2 = w2
  legacyAddress.w3 = w3
}

// ---------------------------------------------------------------------------------------------
// IPv4

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const hexDigit = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1

/** Above every limit that matters (255, 0xffffffff): values saturate here instead of losing precision. */
const HUGE = 2 ** 40

/**
 * One part of an IPv4 text, as ipaddr.js 1.9.1 reads it, or -1 when the part has the wrong
 * syntax. `octal` selects the reading of a leading zero: the stand-alone IPv4 reader takes it
 * as octal; the dotted tail of an IPv6 address takes it as decimal.
 */
function v4Part(s: string, a: number, b: number, octal: boolean): number {
  if (a >= b) return -1
  const c0 = s.charCodeAt(a)
  if (b - a >= 3 && c0 === 48 && (s.charCodeAt(a + 1) | 0x20) === 120 /* x */) {
    let v = 0
    for (let k = a + 2; k < b; k++) {
      const h = hexDigit(s.charCodeAt(k))
      if (h < 0) return -1
      v = v < HUGE ? v * 16 + h : v
    }
    // An upper-case X is not a hexadecimal prefix to the stand-alone reader: it reads the part
    // as octal, which stops at the X, so the part is 0.
    return octal && s.charCodeAt(a + 1) === 88 /* X */ ? 0 : v
  }
  for (let k = a; k < b; k++) if (!isDigit(s.charCodeAt(k))) return -1
  let v = 0
  if (octal && c0 === 48) {
    for (let k = a; k < b; k++) {
      const c = s.charCodeAt(k)
      if (c > 55 /* 7 */) break
      v = v < HUGE ? v * 8 + (c - 48) : v
    }
    return v
  }
  for (let k = a; k < b; k++) v = v < HUGE ? v * 10 + (s.charCodeAt(k) - 48) : v
  return v
}

function parseLegacyV4(s: string): boolean {
  const n = s.length
  const d1 = s.indexOf('.')
  if (d1 < 0) {
    // One number for the whole address.
    const v = v4Part(s, 0, n, true)
    if (v < 0 || v > 0xffffffff) return false
    legacyAddress.family = 4
    legacyAddress.mapped = false
    legacyAddress.v4 = v
    return true
  }
  let value = 0
  let a = 0
  for (let part = 0; part < 4; part++) {
    let b = part < 3 ? s.indexOf('.', a) : n
    if (b < 0) return false
    if (part === 3 && s.indexOf('.', a) >= 0) return false
    const v = v4Part(s, a, b, true)
    if (v < 0 || v > 255) return false
    value = value * 256 + v
    a = b + 1
  }
  legacyAddress.family = 4
  legacyAddress.mapped = false
  legacyAddress.v4 = value
  return true
}

// ---------------------------------------------------------------------------------------------
// IPv6

const isHexOrColon = (c: number): boolean => c === 58 || hexDigit(c) >= 0

function parseLegacyV6(s: string): boolean {
  const n = s.length
  let end = n
  const pct = s.indexOf('%')
  if (pct >= 0) {
    // A zone is one or more ASCII letters or digits, and nothing follows it.
    if (pct === n - 1) return false
    for (let k = pct + 1; k < n; k++) {
      const c = s.charCodeAt(k) | 0x20
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 122))) return false
    }
    end = pct
  }
  let dot = -1
  for (let k = 0; k < end; k++) {
    const c = s.charCodeAt(k)
    if (c === 46) {
      dot = k
      break
    }
  }
  return dot < 0 ? native(s, end) : dotted(s, end)
}

/** Hex groups and colons only, not opening with a lone colon. */
function native(s: string, end: number): boolean {
  for (let k = 0; k < end; k++) if (!isHexOrColon(s.charCodeAt(k))) return false
  if (s.charCodeAt(0) === 58 && s.charCodeAt(1) !== 58) return false
  if (expand(s, 0, end, 8) !== 8) return false
  fromGroups()
  return true
}

/** Hex groups and colons, then a dotted quad after the last colon. */
function dotted(s: string, end: number): boolean {
  const last = s.lastIndexOf(':', end - 1)
  // The part up to the last colon: groups each followed by one or two colons, opening with a
  // group or with `::`.
  let run = 0
  for (let k = 0; k <= last; k++) {
    const c = s.charCodeAt(k)
    if (c === 58) {
      if (++run > 2) return false
    } else if (hexDigit(c) >= 0) {
      run = 0
    } else {
      return false
    }
  }
  if (s.charCodeAt(0) === 58 && s.charCodeAt(1) !== 58) return false
  // The dotted quad: four parts, decimal (a leading zero is still decimal here) or 0x-hex.
  let v4 = 0
  let a = last + 1
  for (let part = 0; part < 4; part++) {
    const b = part < 3 ? s.indexOf('.', a) : end
    if (b < 0 || b > end) return false
    if (part === 3 && s.indexOf('.', a) >= 0 && s.indexOf('.', a) < end) return false
    const v = v4Part(s, a, b, false)
    if (v < 0 || v > 255) return false
    v4 = v4 * 256 + v
    a = b + 1
  }
  // The groups, without the colon that precedes the quad, must make six.
  if (expand(s, 0, last, 6) !== 6) return false
  G[6] = Math.floor(v4 / 65536)
  G[7] = v4 % 65536
  fromGroups()
  return true
}

function fromGroups(): void {
  if (G[0] === 0 && G[1] === 0 && G[2] === 0 && G[3] === 0 && G[4] === 0 && G[5] === 0xffff) {
    setMapped(G[6]! * 65536 + G[7]!)
  } else {
    setV6(G[0]! * 65536 + G[1]!, G[2]! * 65536 + G[3]!, G[4]! * 65536 + G[5]!, G[6]! * 65536 + G[7]!)
  }
}

/**
 * ipaddr.js 1.9.1's expansion of `s[a..b)` (hex digits and colons) to `want` groups: the one
 * `::` becomes as many zero groups as the colon count leaves room for (possibly none), then one
 * colon is dropped from each end, and what remains is split at the colons. Writes the groups to
 * G and returns how many there are, or -1 when the text cannot be expanded (two `::`, too many
 * colons, an empty group, a group above 0xffff).
 */
function expand(s: string, a: number, b: number, want: number): number {
  let gap = -1
  let colons = 0
  for (let k = a; k < b; k++) {
    if (s.charCodeAt(k) !== 58) continue
    colons++
    if (k + 1 < b && s.charCodeAt(k + 1) === 58) {
      if (gap >= 0) return -1 // a second `::` (a run of three colons counts as two)
      gap = k
    }
  }
  const opensWithGap = b - a >= 2 && gap === a
  const endsWithGap = b - a >= 2 && s.charCodeAt(b - 1) === 58 && s.charCodeAt(b - 2) === 58
  const counted = colons - (opensWithGap ? 1 : 0) - (endsWithGap ? 1 : 0)
  if (counted > want) return -1
  let text = s.slice(a, b)
  if (gap >= 0) {
    const at = gap - a
    text = text.slice(0, at) + ':' + '0:'.repeat(want - counted) + text.slice(at + 2)
  }
  let from = 0
  let to = text.length
  if (to > 0 && text.charCodeAt(0) === 58) from = 1
  if (to > from && text.charCodeAt(to - 1) === 58) to--
  let count = 0
  let start = from
  for (let k = from; k <= to; k++) {
    if (k < to && text.charCodeAt(k) !== 58) continue
    if (k === start) return -1 // an empty group
    let v = 0
    for (let j = start; j < k; j++) {
      v = v * 16 + hexDigit(text.charCodeAt(j))
      if (v > 0xffff) return -1
    }
    if (count === 8) return -1
    G[count++] = v
    start = k + 1
  }
  return count
}
