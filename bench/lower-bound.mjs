/**
 * A lower bound for the IPv4 scenarios, not part of the library: the least work any resolver
 * that validates what it walks can do. It reads each X-Forwarded-For item right to left in the
 * single pass that also finds the comma before it, accepts only strict dotted IPv4 (no ports,
 * no IPv6, no white space but spaces), matches ranges as sign-flipped int32 intervals, keeps
 * no state, builds no chain and reports no anomalies, and gives up (null) on anything else.
 *
 * If this cannot reach a target ratio against proxy-addr, no spec-conforming resolver can:
 * the spec requires at least this much (every walked hop validated, the client returned as
 * canonical text), and the library does more (IPv6, ports, brackets, zones, anomalies).
 */

let value = 0
let start = 0

/** Strict IPv4 ending at `end` (exclusive), read leftwards; sets `value` and `start`. */
function readBack(s, end) {
  let i = end - 1
  while (i >= 0 && s.charCodeAt(i) === 32) i--
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
  value = v ^ 0x80000000
  start = i + 1
  return v !== 0
}

/** Ranges as [first, last] pairs of unsigned IPv4 values. */
export function rangeTrust(ranges) {
  const lo = Int32Array.from(ranges, (r) => r[0] ^ 0x80000000)
  const hi = Int32Array.from(ranges, (r) => r[1] ^ 0x80000000)
  const n = lo.length
  return (v) => {
    for (let k = 0; k < n; k++) if (v >= lo[k] && v <= hi[k]) return true
    return false
  }
}

/**
 * The client of an IPv4-only request, or null when something is not plain IPv4. `trusted(v, hop)`
 * decides trust from the sign-flipped value and the hop index.
 */
export function lowerBoundResolve(trusted, remote, xff) {
  if (!readBack(remote, remote.length) || start !== 0) return null
  if (!trusted(value, 0) || xff === undefined) return remote
  let end = xff.length
  for (let hop = 1; ; hop++) {
    if (!readBack(xff, end)) return null
    let i = start - 1
    while (i >= 0 && xff.charCodeAt(i) === 32) i--
    if (i >= 0 && xff.charCodeAt(i) !== 44) return null
    if (i < 0 || !trusted(value, hop)) {
      let b = end
      while (xff.charCodeAt(b - 1) === 32) b--
      return xff.slice(start, b)
    }
    end = i
  }
}

const LOOPBACK = [0x7f000000, 0x7fffffff]
const TEN = [0x0a000000, 0x0affffff]

/** Lower-bound contenders for the scenarios it can serve (IPv4 only), keyed by scenario id. */
export function lowerBounds() {
  const loopback = rangeTrust([LOOPBACK])
  // The IPv4 part of `loopback, 10.0.0.0/8, fd00::/8` (no IPv6 address is walked in these).
  const list = rangeTrust([TEN, LOOPBACK])
  const hops2 = (_v, hop) => hop < 2
  return {
    'loopback-1': loopback,
    'ipv4-3hop': list,
    'hops-2': hops2,
    'range-100': list,
    'range-8192': list,
  }
}
