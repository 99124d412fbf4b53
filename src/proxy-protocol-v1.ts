/** PROXY protocol version 1: one text line (proxy-protocol.txt section 2.1). */
import { ParsedAddress, parseIPv6 } from './ip.js'
import { formatIPv4, formatParsed } from './ip-text.js'
import { INCOMPLETE, type ProxyDecodeResult, V1_MAX_LENGTH, fail, header, isHostAddress } from './proxy-protocol-header.js'

export function decodeV1(b: Uint8Array, max: number): ProxyDecodeResult {
  // The CR must leave room for its LF within the 107 bytes.
  const limit = Math.min(b.length, V1_MAX_LENGTH - 1)
  let cr = -1
  for (let i = 6; i < limit; i++) {
    const c = b[i]!
    if (c === 0x0d) {
      cr = i
      break
    }
    // Only printable ASCII and single spaces belong in the line; fail early on anything else
    // rather than wait for a CRLF that a slow sender may never send.
    if (c < 0x20 || c > 0x7e) return fail('v1-syntax', i, 'a byte that is not printable ASCII in the v1 line')
  }
  if (cr < 0) {
    if (b.length >= V1_MAX_LENGTH - 1) return fail('v1-too-long', V1_MAX_LENGTH - 1, `no CRLF within ${V1_MAX_LENGTH} bytes`)
    if (b.length >= max) return fail('too-large', max, `the v1 line is longer than the ${max} bytes allowed`)
    return INCOMPLETE
  }
  if (cr + 1 >= b.length) return INCOMPLETE
  if (b[cr + 1] !== 0x0a) return fail('v1-syntax', cr + 1, 'CR not followed by LF')
  const length = cr + 2
  if (length > max) return fail('too-large', max, `the v1 line is longer than the ${max} bytes allowed`)
  // The fields are read from the bytes in place: no line string, no split.
  const familyEnd = spaceOrEnd(b, 6, cr)
  if (matches(b, 6, familyEnd, UNKNOWN)) {
    // "the receiver must ignore anything presented before the CRLF is found"
    return { kind: 'header', length, header: header(1, 'proxy', 'unspec', 'unspec', undefined, undefined) }
  }
  const v4 = matches(b, 6, familyEnd, TCP4)
  if (!v4 && !matches(b, 6, familyEnd, TCP6)) return fail('v1-syntax', 6, 'the family is not TCP4, TCP6 or UNKNOWN')
  // Five fields, single spaces: family, source, destination, source port, destination port.
  const a1 = familyEnd + 1
  const e1 = spaceOrEnd(b, a1, cr)
  const e2 = spaceOrEnd(b, e1 + 1, cr)
  const e3 = spaceOrEnd(b, e2 + 1, cr)
  const e4 = spaceOrEnd(b, e3 + 1, cr)
  if (familyEnd >= cr || e3 >= cr || e4 !== cr || a1 === e1 || e1 + 1 === e2 || e2 + 1 === e3 || e3 + 1 === e4) {
    return fail('v1-syntax', 6, 'not five fields separated by single spaces after PROXY')
  }
  const family = v4 ? 'TCP4' : 'TCP6'
  const src = v1Address(b, a1, e1, v4)
  if (src === undefined || !isHostAddress(src)) return fail('v1-address', a1, `the source is not a ${family} host address`)
  const dst = v1Address(b, e1 + 1, e2, v4)
  if (dst === undefined) return fail('v1-address', e1 + 1, `the destination is not a ${family} address`)
  const sport = v1Port(b, e2 + 1, e3)
  if (sport < 0) return fail('v1-port', e2 + 1, 'the source port is not 0-65535')
  const dport = v1Port(b, e3 + 1, e4)
  if (dport < 0) return fail('v1-port', e3 + 1, 'the destination port is not 0-65535')
  return {
    kind: 'header',
    length,
    header: header(1, 'proxy', v4 ? 'ipv4' : 'ipv6', 'stream', { address: src, port: sport }, { address: dst, port: dport }),
  }
}

const UNKNOWN = [0x55, 0x4e, 0x4b, 0x4e, 0x4f, 0x57, 0x4e]
const TCP4 = [0x54, 0x43, 0x50, 0x34]
const TCP6 = [0x54, 0x43, 0x50, 0x36]

/** The offset of the next space from i, or `end`. */
function spaceOrEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i] !== 0x20) i++
  return i
}

function matches(b: Uint8Array, a: number, end: number, word: number[]): boolean {
  if (end - a !== word.length) return false
  for (let i = 0; i < word.length; i++) if (b[a + i] !== word[i]) return false
  return true
}

/** Canonical text of a v1 address field: strict dotted IPv4, or IPv6 text with no zone. */
function v1Address(b: Uint8Array, a: number, end: number, v4: boolean): string | undefined {
  if (v4) {
    // Strict dotted decimal: four octets 0-255, no leading zeros; then that text is canonical.
    let v = 0
    let octets = 0
    let i = a
    while (octets < 4) {
      const start = i
      let o = 0
      while (i < end && b[i]! >= 48 && b[i]! <= 57 && i - start < 3) o = o * 10 + (b[i++]! - 48)
      if (i === start || o > 255 || (i - start > 1 && b[start] === 48)) return undefined
      v = (v << 8) | o
      octets++
      if (octets < 4) {
        if (i >= end || b[i] !== 0x2e) return undefined
        i++
      }
    }
    return i === end ? formatIPv4(v) : undefined
  }
  if (end - a > 45) return undefined
  let s = ''
  for (let i = a; i < end; i++) {
    const c = b[i]!
    // IPv6 text only (embedded IPv4 allowed): no zone, no brackets, no port.
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46)) return undefined
    s += String.fromCharCode(c)
  }
  const address = new ParsedAddress()
  if (!parseIPv6(address, s, 0, s.length)) return undefined
  return formatParsed(address)
}

/** A decimal port 0-65535 without leading zeros, or -1. */
function v1Port(b: Uint8Array, a: number, end: number): number {
  const n = end - a
  if (n === 0 || n > 5 || (n > 1 && b[a] === 48)) return -1
  let v = 0
  for (let i = a; i < end; i++) {
    const c = b[i]!
    if (c < 48 || c > 57) return -1
    v = v * 10 + (c - 48)
  }
  return v <= 65535 ? v : -1
}
