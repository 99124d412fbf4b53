/**
 * One parsed address as a value (ip.ts says why by hand and why strict): the record the parsers
 * fill in place, the length bounds every reader shares, and the small checks they all use.
 */

/** One parsed address, filled in place by the parsers (ip-v4.ts, ip-v6.ts, ip.ts). */
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
export const MAX_ZONE_LENGTH = 64

/** Hex digit values by char code (below 128), -1 for anything else. */
const HEX_VALUE = new Int8Array(128).fill(-1)
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c
for (let c = 0; c < 6; c++) HEX_VALUE[97 + c] = HEX_VALUE[65 + c] = 10 + c

export function hexValue(c: number): number {
  return c < 128 ? HEX_VALUE[c]! : -1
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

/** Optional white space of HTTP: space and horizontal tab. */
export function isOWS(c: number): boolean {
  return c === 32 || c === 9
}
