/**
 * The lower bound for scenarios that walk IPv6 hops (beside lower-bound.mjs, its IPv4-only
 * counterpart), not part of the library: the least work any resolver that validates every hop it
 * walks can do when a hop may be IPv4 or IPv6.
 *
 * Each X-Forwarded-For item is read right to left in the one pass that also finds the comma
 * before it: strict RFC 4291 text (1-4 hex digits a group, one `::` standing for at least one
 * zero group, an embedded dotted IPv4 tail in the last 32 bits) or strict dotted IPv4. An
 * IPv4-mapped address (`::ffff:a.b.c.d`) is that IPv4 host. Ranges are matched on all 128 bits
 * as sign-flipped int32 words (scanned in order when there are a few, searched by halves when
 * many). No ports, brackets or zones in X-Forwarded-For; the Forwarded reader takes quoted
 * `[IPv6]:port` and `IPv4:port` in `for=`, as the Forwarded scenario has. It keeps no state,
 * builds no chain, reports no anomalies, and gives up (null) on anything else.
 *
 * The client comes back as canonical text (RFC 5952, mapped addresses as dotted IPv4): a slice of
 * the header when the header's text already is canonical, as in every scenario, and formatted
 * otherwise.
 */
import ipaddr from 'ipaddr.js'
import { FLIPPED_ZERO, SCAN_MAX, lowerBoundResolve, mergeIntervals, rangeTrust, readIPv4Back, scan } from './lower-bound.mjs'

// The address the last readAddressBack() read, in one record of fixed shape (as the library's
// scratch is: cheaper to write per hop than separate module variables). Words and IPv4 values
// have their sign bit flipped, so that signed int32 comparison orders them as unsigned numbers.
const A = {
  family: 4,
  v4: 0,
  w0: 0,
  w1: 0,
  w2: 0,
  w3: 0,
  /** Where the address text starts; where its canonical text would start (a mapped address's dotted tail). */
  start: 0,
  from: 0,
  /** IPv6 text: no upper-case digit, no leading zero, no dotted tail (the `::` is checked apart). */
  plain: true,
  /** Whether the text was IPv6 (it had a colon), even when the address is IPv4-mapped. */
  v6Text: false,
  /** IPv6: how many groups the text wrote, how many of them are right of its `::` (-1: none), where its dotted tail starts (-1: none). */
  groups: 0,
  gapRight: -1,
  tailAt: -1,
  /** IPv6 text read, its value not built yet (see expand). */
  pending: false,
}

/** Groups as read, right to left; then the eight groups, left to right. */
const R = new Int32Array(8)
const G = new Int32Array(8)

const HEX = new Int8Array(128).fill(-1)
for (let c = 0; c < 10; c++) HEX[48 + c] = c
for (let c = 0; c < 6; c++) HEX[97 + c] = HEX[65 + c] = 10 + c
const hexAt = (s, i) => {
  const c = i >= 0 ? s.charCodeAt(i) : 0
  return c < 128 ? HEX[c] : -1
}

/**
 * A strict IPv4 or IPv6 address ending at `end` (exclusive), read leftwards; false when it is
 * not one, or names no host (`0.0.0.0`, `::`, `::ffff:0.0.0.0`). The char before `start` is
 * left to the caller (a comma, a space, a bracket, the start).
 */
function readAddressBack(s, end) {
  let i = end - 1
  let n = 0
  let gap = -1
  let tail = -1
  let any = 0
  // Most items are IPv4: that first, in one pass; it is also an IPv6 address's dotted tail.
  if (readIPv4Back(s, end)) {
    i = scan.start - 1
    if (i < 0 || s.charCodeAt(i) !== 58 /* : */) {
      A.family = 4
      A.v4 = scan.value
      A.start = A.from = scan.start
      A.v6Text = false
      A.pending = false
      A.plain = true
      return A.v4 !== FLIPPED_ZERO
    }
    const u = scan.value ^ 0x80000000
    R[0] = u & 0xffff
    R[1] = u >>> 16
    n = 2
    any = u
    tail = scan.start
  } else if (i >= 0 && s.charCodeAt(i) === 58) {
    // Only "::" may end an address.
    if (i < 1 || s.charCodeAt(i - 1) !== 58) return false
    gap = 0
    i -= 2
    if (hexAt(s, i) < 0) return false // "::" alone: the unspecified address
  }
  let canonical = true
  // The AND of every hex digit's char code: bit 0x20 is clear only if an upper-case A-F was seen.
  let digitBits = 0xff
  // After a dotted tail, s[i] is the colon before it.
  let atColon = tail >= 0
  for (;;) {
    if (!atColon) {
      let v = 0
      let digits = 0
      let c = 0
      for (;;) {
        c = i >= 0 ? s.charCodeAt(i) : 0
        const h = c < 128 ? HEX[c] : -1
        if (h < 0) break
        if (digits === 4) return false
        digitBits &= c
        v |= h << (digits << 2)
        digits++
        i--
      }
      if (digits === 0 || n === 8) return false
      if (digits > 1 && s.charCodeAt(i + 1) === 48) canonical = false
      R[n++] = v
      any |= v
      if (c !== 58) break
    }
    atColon = false
    // s[i] is a colon after a group (or after the tail).
    if (i >= 1 && s.charCodeAt(i - 1) === 58) {
      if (gap >= 0) return false
      gap = n
      i -= 2
      if (hexAt(s, i) < 0) break // the address starts with "::"
    } else {
      i--
      if (hexAt(s, i) < 0) return false
    }
  }
  if (gap < 0 ? n !== 8 : n === 8) return false
  A.start = A.from = i + 1
  A.v6Text = true
  A.groups = n
  A.gapRight = gap
  A.tailAt = tail
  A.plain = canonical && (digitBits & 0x20) !== 0
  // The groups are placed and the value built only when needed (a range to match, the client's
  // text): a hop count or `all` only needs the text validated. `::` and `::ffff:0.0.0.0` name no host.
  A.pending = true
  if (any === 0) return false
  if (any === 0xffff) {
    expand()
    return A.family === 6 || A.v4 !== FLIPPED_ZERO
  }
  return true
}

/** Places the groups read by readAddressBack and builds the value: an IPv4-mapped address is IPv4. */
function expand() {
  A.pending = false
  const n = A.groups
  const left = A.gapRight < 0 ? n : n - A.gapRight
  for (let k = 0; k < left; k++) G[k] = R[n - 1 - k]
  for (let k = left; k < 8; k++) G[k] = 0
  for (let k = 0; k < n - left; k++) G[7 - k] = R[k]
  if (G[0] === 0 && G[1] === 0 && G[2] === 0 && G[3] === 0 && G[4] === 0 && G[5] === 0xffff) {
    A.family = 4
    A.v4 = ((G[6] << 16) | G[7]) ^ 0x80000000
    // The dotted tail of a mapped address is the IPv4 host's canonical text.
    A.plain = A.tailAt >= 0
    if (A.plain) A.from = A.tailAt
    return
  }
  A.family = 6
  if (A.tailAt >= 0) A.plain = false
  A.w0 = ((G[0] << 16) | G[1]) ^ 0x80000000
  A.w1 = ((G[2] << 16) | G[3]) ^ 0x80000000
  A.w2 = ((G[4] << 16) | G[5]) ^ 0x80000000
  A.w3 = ((G[6] << 16) | G[7]) ^ 0x80000000
}

/** Canonical text of the address just read, whose text ends at `end` of `s`. */
function clientText(s, end) {
  if (A.pending) expand()
  if (A.family === 4) return A.plain ? s.slice(A.from, end) : formatIPv4(A.v4 ^ 0x80000000)
  if (A.plain && compressedAsRfc5952()) return s.slice(A.from, end)
  return formatIPv6()
}

/** RFC 5952 compresses the longest run of two or more zero groups, the first of equal runs. */
function longestZeroRun() {
  let best = -1
  let bestLen = 1
  for (let k = 0; k < 8; ) {
    if (G[k] !== 0) {
      k++
      continue
    }
    const at = k
    while (k < 8 && G[k] === 0) k++
    if (k - at > bestLen) {
      best = at
      bestLen = k - at
    }
  }
  return best
}

function compressedAsRfc5952() {
  const best = longestZeroRun()
  if (A.gapRight < 0) return best < 0
  const at = A.groups - A.gapRight
  let k = at
  while (k < 8 && G[k] === 0) k++
  return best === at && k - at === 8 - A.groups
}

const formatIPv4 = (u) => `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}`

function formatIPv6() {
  const best = longestZeroRun()
  const hex = (a, b) => Array.from(G.subarray(a, b), (g) => g.toString(16)).join(':')
  if (best < 0) return hex(0, 8)
  let k = best
  while (k < 8 && G[k] === 0) k++
  return `${hex(0, best)}::${hex(k, 8)}`
}

/** Trust of the address just read, at hop `hop` (a hop count or `all` never looks at the value). */
function trusted(trust, hop) {
  if (trust.anyAddress) return trust.v4(0, hop)
  if (A.pending) expand()
  return A.family === 4 ? trust.v4(A.v4, hop) : trust.v6(A.w0, A.w1, A.w2, A.w3, hop)
}

/**
 * The client of a request whose hops may be IPv4 or IPv6, or null when an item is not a strict
 * address. `trust` is `{ v4(flipped, hop), v6(w0, w1, w2, w3, hop) }` (sign-flipped words).
 */
export function lowerBoundResolveMixed(trust, remote, xff) {
  if (!readAddressBack(remote, remote.length) || A.start !== 0) return null
  if (!trusted(trust, 0) || xff === undefined) return clientText(remote, remote.length)
  let end = xff.length
  for (let hop = 1; ; hop++) {
    while (end > 0 && xff.charCodeAt(end - 1) === 32) end--
    if (!readAddressBack(xff, end)) return null
    let i = A.start - 1
    while (i >= 0 && xff.charCodeAt(i) === 32) i--
    if (i >= 0 && xff.charCodeAt(i) !== 44 /* , */) return null
    if (i < 0 || !trusted(trust, hop)) return clientText(xff, end)
    end = i
  }
}

/** RFC 7230 tchar: what an unquoted Forwarded name or value is made of. */
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1
const isTchar = (c) => c < 128 && TCHAR[c] === 1

/** End of the address in a `for=` value between a and b (exclusive), after an optional `:port`. */
function withoutPort(s, a, b) {
  let i = b - 1
  let port = 0
  let digits = 0
  for (let c = s.charCodeAt(i); i > a && c >= 48 && c <= 57; c = s.charCodeAt(--i)) {
    if (++digits > 5) return -1
    port += (c - 48) * 10 ** (digits - 1)
  }
  if (digits === 0 || s.charCodeAt(i) !== 58) return b
  return port <= 65535 ? i : -1
}

/**
 * End of the address of a `for=` value (between a and b), or -1: a token (IPv4 only, a colon is
 * no tchar), or quoted `IPv4[:port]` or `[IPv6][:port]`.
 */
function forAddress(s, a, b) {
  if (s.charCodeAt(a) !== 34 /* " */) return readAddressBack(s, b) && !A.v6Text && A.start === a ? b : -1
  a++
  b--
  const e = withoutPort(s, a, b)
  if (e < 0) return -1
  if (s.charCodeAt(a) === 91 /* [ */) {
    if (s.charCodeAt(e - 1) !== 93 /* ] */) return -1
    return readAddressBack(s, e - 1) && A.v6Text && A.start === a + 1 ? e - 1 : -1
  }
  return readAddressBack(s, e) && !A.v6Text && A.start === a ? e : -1
}

/**
 * The client of a request carrying a Forwarded header (RFC 7239), or null: each element read
 * right to left, pair by pair (`name=token` or `name="quoted"`, a backslash in a quoted value
 * gives up), exactly one `for=` per element, whose address is validated as above.
 */
export function lowerBoundResolveForwarded(trust, remote, fwd) {
  if (!readAddressBack(remote, remote.length) || A.start !== 0) return null
  if (!trusted(trust, 0) || fwd === undefined) return clientText(remote, remote.length)
  let i = fwd.length - 1
  for (let hop = 1; ; hop++) {
    while (i >= 0 && fwd.charCodeAt(i) === 32) i--
    let addrEnd = -1
    for (;;) {
      // One pair, from the end of its value.
      const valueEnd = i + 1
      if (i >= 0 && fwd.charCodeAt(i) === 34) {
        i--
        while (i >= 0 && fwd.charCodeAt(i) !== 34) {
          if (fwd.charCodeAt(i) === 92 /* \ */) return null
          i--
        }
        if (i < 0) return null
      } else {
        while (i >= 0 && isTchar(fwd.charCodeAt(i))) i--
        i++
        if (i === valueEnd) return null
      }
      const valueStart = i
      i--
      if (i < 0 || fwd.charCodeAt(i) !== 61 /* = */) return null
      const nameEnd = i
      i--
      while (i >= 0 && isTchar(fwd.charCodeAt(i))) i--
      if (nameEnd - i === 4 && (fwd.charCodeAt(i + 1) | 32) === 102 && (fwd.charCodeAt(i + 2) | 32) === 111 && (fwd.charCodeAt(i + 3) | 32) === 114) {
        if (addrEnd >= 0) return null
        addrEnd = forAddress(fwd, valueStart, valueEnd)
        if (addrEnd < 0) return null
      } else if (nameEnd - i === 1) {
        return null
      }
      let j = i
      while (j >= 0 && fwd.charCodeAt(j) === 32) j--
      if (j < 0 || fwd.charCodeAt(j) === 44) {
        i = j
        break
      }
      if (fwd.charCodeAt(i) !== 59 /* ; */) return null
      i--
    }
    if (addrEnd < 0) return null
    // readAddressBack ran once in this element, for its for= value: its scratch is that hop's.
    if (i < 0 || !trusted(trust, hop)) return clientText(fwd, addrEnd)
    i--
  }
}

// ---------------------------------------------------------------------------------------------
// Trust, built once per scenario from its TRUST_PROXY list (with ipaddr.js, apart from the library)

const NAMED = { loopback: ['127.0.0.0/8', '::1/128'] }

/** `{ v4, v6 }` predicates over the CIDRs of a list (`loopback` expanded); mapped ranges are IPv4. */
export function listTrust(entries) {
  const four = []
  const six = []
  for (const entry of entries.flatMap((e) => NAMED[e] ?? [e])) {
    let [addr, bits] = ipaddr.parseCIDR(entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`)
    if (addr.kind() === 'ipv6' && addr.isIPv4MappedAddress() && bits >= 96) [addr, bits] = [addr.toIPv4Address(), bits - 96]
    const width = addr.kind() === 'ipv4' ? 32 : 128
    const value = BigInt(`0x${Buffer.from(addr.toByteArray()).toString('hex')}`)
    const host = (1n << BigInt(width - bits)) - 1n
    ;(width === 32 ? four : six).push([value & ~host, value | host])
  }
  return { v4: rangeTrust(four.map(([a, b]) => [Number(a), Number(b)])), v6: rangeTrust6(six) }
}

/** Four sign-flipped words of a 128-bit BigInt. */
const words = (x) => [96n, 64n, 32n, 0n].map((sh) => Number((x >> sh) & 0xffffffffn) ^ 0x80000000)

/** A trust predicate over IPv6 [first, last] BigInt intervals, on four sign-flipped words. */
export function rangeTrust6(ranges) {
  const merged = mergeIntervals(ranges)
  const lo = Int32Array.from(merged.flatMap((r) => words(r[0])))
  const hi = Int32Array.from(merged.flatMap((r) => words(r[1])))
  const n = merged.length
  // a < b, a being the words and b four words at offset o of t.
  const below = (a0, a1, a2, a3, t, o) => (a0 !== t[o] ? a0 < t[o] : a1 !== t[o + 1] ? a1 < t[o + 1] : a2 !== t[o + 2] ? a2 < t[o + 2] : a3 < t[o + 3])
  const above = (a0, a1, a2, a3, t, o) => (a0 !== t[o] ? a0 > t[o] : a1 !== t[o + 1] ? a1 > t[o + 1] : a2 !== t[o + 2] ? a2 > t[o + 2] : a3 > t[o + 3])
  if (n <= SCAN_MAX) {
    return (a0, a1, a2, a3) => {
      for (let o = 0; o < 4 * n; o += 4) if (!below(a0, a1, a2, a3, lo, o) && !above(a0, a1, a2, a3, hi, o)) return true
      return false
    }
  }
  return (a0, a1, a2, a3) => {
    if (n === 0 || below(a0, a1, a2, a3, lo, 0)) return false
    let a = 0
    let b = n - 1
    while (a < b) {
      const m = (a + b + 1) >> 1
      if (below(a0, a1, a2, a3, lo, 4 * m)) b = m - 1
      else a = m
    }
    return !above(a0, a1, a2, a3, hi, 4 * a)
  }
}

/** Trust of a scenario: its hop count, `true`, or its list (presets expanded by the caller). */
export function scenarioTrust(s, peerList) {
  if (/^\d+$/.test(s.ours)) {
    const n = Number(s.ours)
    return { anyAddress: true, v4: (_v, hop) => hop < n, v6: (_a, _b, _c, _d, hop) => hop < n }
  }
  if (s.ours === 'true') return { anyAddress: true, v4: () => true, v6: () => true }
  return listTrust(peerList)
}

/**
 * The lower-bound contender of a scenario: a zero-argument function, and which reader it uses
 * (`ipv4` when every hop its walk reads is IPv4, `ipv6` for X-Forwarded-For walks with IPv6
 * hops, `forwarded`). `peerList` is the scenario's list with presets expanded.
 */
export function lowerBoundFor(s, peerList) {
  const trust = scenarioTrust(s, peerList)
  const { remote, xff, forwarded } = s
  if (forwarded !== undefined) return { kind: 'forwarded', fn: () => lowerBoundResolveForwarded(trust, remote, forwarded) }
  // IPv4-only when every hop the walk reads is IPv4 (the IPv4 reader then finds the client).
  const four = trust.v4
  if (lowerBoundResolve(four, remote, xff) === s.expected) return { kind: 'ipv4', fn: () => lowerBoundResolve(four, remote, xff) }
  return { kind: 'ipv6', fn: () => lowerBoundResolveMixed(trust, remote, xff) }
}
