/**
 * IPv6 text (RFC 4291: `::`, dotted IPv4 tails, an optional zone) into a {@link ParsedAddress}
 * (see ip.ts for why by hand and why strict).
 */
import { MAX_ZONE_LENGTH, type ParsedAddress, hexValue } from './ip-address.js'
import { scanIPv4 } from './ip-v4.js'

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
