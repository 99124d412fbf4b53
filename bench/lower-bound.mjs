/**
 * A lower bound for the IPv4 scenarios, not part of the library: the least work any resolver
 * that validates what it walks can do. It reads each X-Forwarded-For item right to left in the
 * single pass that also finds the comma before it, accepts only strict dotted IPv4 (no ports,
 * no IPv6, no white space but spaces), matches ranges as sign-flipped int32 intervals, keeps
 * no state, builds no chain and reports no anomalies, and gives up (null) on anything else.
 * `lower-bound-v6.mjs` is its counterpart for scenarios that walk IPv6 hops.
 *
 * If this cannot reach a target ratio against proxy-addr, no spec-conforming resolver can:
 * the spec requires at least this much (every walked hop validated, the client returned as
 * canonical text), and the library does more (IPv6, ports, brackets, zones, anomalies).
 */

/** What {@link readIPv4Back} read: the value with its sign bit flipped, and where its text starts. */
export const scan = { value: 0, start: 0 }

/**
 * Strict dotted IPv4 ending at `end` (exclusive), read leftwards: four octets 0-255 without
 * leading zeros. Sets `scan` and returns true; `0.0.0.0` is syntax like any other (the caller
 * decides whether it names a host). The char before `scan.start` is left to the caller.
 */
export function readIPv4Back(s, end) {
  let i = end - 1
  if (i < 0) return false
  let v = 0
  for (let shift = 0; ; shift += 8) {
    let c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
    let octet = c - 48
    c = --i >= 0 ? s.charCodeAt(i) : 0
    if (c >= 48 && c <= 57) {
      const tens = c - 48
      octet += tens * 10
      c = --i >= 0 ? s.charCodeAt(i) : 0
      if (c >= 48 && c <= 57) {
        octet += (c - 48) * 100
        if (c === 48 || octet > 255) return false
        c = --i >= 0 ? s.charCodeAt(i) : 0
        if (c >= 48 && c <= 57) return false
      } else if (tens === 0) {
        return false
      }
    }
    v |= octet << shift
    if (shift === 24) break
    if (c !== 46) return false
    i--
  }
  scan.value = v ^ 0x80000000
  scan.start = i + 1
  return true
}

/** The sign-flipped value of 0.0.0.0, which never names a host. */
export const FLIPPED_ZERO = 0x80000000 | 0

/** Strict IPv4 of a host ending at `end`, after the spaces before `end`. */
function readBack(s, end) {
  let i = end
  while (i > 0 && s.charCodeAt(i - 1) === 32) i--
  return readIPv4Back(s, i) && scan.value !== FLIPPED_ZERO
}

/**
 * A trust predicate over ranges given as [first, last] pairs of unsigned IPv4 values: sorted and
 * merged, then scanned in order when there are a few (cheapest), searched by halves when many.
 */
export function rangeTrust(ranges) {
  const merged = mergeIntervals(ranges.map(([a, b]) => [BigInt(a), BigInt(b)]))
  const lo = Int32Array.from(merged, (r) => Number(r[0]) ^ 0x80000000)
  const hi = Int32Array.from(merged, (r) => Number(r[1]) ^ 0x80000000)
  const n = lo.length
  if (n <= SCAN_MAX) {
    return (v) => {
      for (let k = 0; k < n; k++) if (v >= lo[k] && v <= hi[k]) return true
      return false
    }
  }
  return (v) => {
    // The last interval starting at or below v, if any, is the only one that can hold it.
    let a = 0
    let b = n - 1
    if (v < lo[0]) return false
    while (a < b) {
      const m = (a + b + 1) >> 1
      if (lo[m] <= v) a = m
      else b = m - 1
    }
    return v <= hi[a]
  }
}

/** Up to this many intervals, a scan in order beats a binary search. */
export const SCAN_MAX = 8

/** [first, last] BigInt pairs, sorted and with overlapping or adjacent ones merged. */
export function mergeIntervals(ranges) {
  const sorted = [...ranges].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
  const out = []
  for (const [a, b] of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && a <= last[1] + 1n) {
      if (b > last[1]) last[1] = b
    } else {
      out.push([a, b])
    }
  }
  return out
}

/**
 * The client of an IPv4-only request, or null when something is not plain IPv4. `trusted(v, hop)`
 * decides trust from the sign-flipped value and the hop index.
 */
export function lowerBoundResolve(trusted, remote, xff) {
  if (!readBack(remote, remote.length) || scan.start !== 0) return null
  if (!trusted(scan.value, 0) || xff === undefined) return remote
  let end = xff.length
  for (let hop = 1; ; hop++) {
    if (!readBack(xff, end)) return null
    const start = scan.start
    let i = start - 1
    while (i >= 0 && xff.charCodeAt(i) === 32) i--
    if (i >= 0 && xff.charCodeAt(i) !== 44) return null
    if (i < 0 || !trusted(scan.value, hop)) {
      let b = end
      while (xff.charCodeAt(b - 1) === 32) b--
      return xff.slice(start, b)
    }
    end = i
  }
}

const LOOPBACK = [0x7f000000, 0x7fffffff]
const TEN = [0x0a000000, 0x0affffff]

/** Lower-bound contenders for the IPv4 scenarios that need no preset data, keyed by scenario id. */
export function lowerBounds() {
  const loopback = rangeTrust([LOOPBACK])
  // The IPv4 part of `loopback, 10.0.0.0/8, fd00::/8` (no IPv6 address is walked in these).
  const list = rangeTrust([TEN, LOOPBACK])
  const hops2 = (_v, hop) => hop < 2
  return {
    'no-header': list,
    'loopback-1': loopback,
    'ipv4-3hop': list,
    'hops-2': hops2,
    'chain-1': list,
    'range-100': list,
    'range-8192': list,
  }
}
