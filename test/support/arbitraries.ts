/**
 * fast-check generators for addresses in every text form a proxy or a client may write, and for
 * trust lists whose ranges those addresses often fall into (so that walks go several hops deep).
 */
import fc from 'fast-check'

export const byte = fc.integer({ min: 0, max: 255 })

/** Strict dotted-decimal IPv4, never 0.0.0.0 (not a host). */
export const ipv4 = fc
  .tuple(byte, byte, byte, byte)
  .filter((b) => b.some((x) => x !== 0))
  .map((b) => b.join('.'))

const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }))

/** Eight 16-bit groups, biased towards zero runs; never `::` or `::ffff:0.0.0.0` (no host). */
export const ipv6Groups = fc
  .array(group, { minLength: 8, maxLength: 8 })
  .filter((g) => g.some((x, k) => x !== 0 && !(k === 5 && x === 0xffff)))

interface V6Style {
  compressAt: number
  upper: boolean
  pad: boolean
  dottedTail: boolean
}

const v6Style: fc.Arbitrary<V6Style> = fc.record({
  compressAt: fc.integer({ min: -1, max: 7 }),
  upper: fc.boolean(),
  pad: fc.boolean(),
  dottedTail: fc.boolean(),
})

/** Any RFC 4291 text form of the groups: compressed anywhere, padded, upper case, dotted tail. */
export function v6Text(groups: number[], style: V6Style): string {
  const hex = (g: number) => {
    const h = g.toString(16)
    const t = style.pad ? h.padStart(4, '0') : h
    return style.upper ? t.toUpperCase() : t
  }
  const tail = style.dottedTail ? [`${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`] : null
  const words = tail ? groups.slice(0, 6).map(hex).concat(tail) : groups.map(hex)
  const n = words.length
  // Compress a run of zero groups starting at compressAt, if there is one (and not in the tail).
  const at = style.compressAt
  const limit = tail ? 6 : 8
  if (at >= 0 && at < limit && groups[at] === 0) {
    let end = at
    while (end < limit && groups[end] === 0) end++
    const left = words.slice(0, at).join(':')
    const right = words.slice(end, n).join(':')
    return `${left}::${right}`
  }
  return words.join(':')
}

export const ipv6 = fc.tuple(ipv6Groups, v6Style).map(([g, s]) => v6Text(g, s))

/** IPv4-mapped IPv6 text (`::ffff:1.2.3.4` or `::ffff:102:304`). */
export const mapped = fc
  .tuple(ipv4, fc.boolean())
  .map(([v4, dotted]) => {
    if (dotted) return `::ffff:${v4}`
    const b = v4.split('.').map(Number)
    return `::ffff:${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`
  })

/** Pools of ranges, and addresses biased into them. */
export const RANGE_POOL = [
  '10.0.0.0/8',
  '192.168.1.0/24',
  '127.0.0.1',
  '172.16.0.0/12',
  'fd00::/8',
  '2001:db8::/32',
  '::ffff:100.64.0.0/106',
  'fe80::/10',
  '203.0.113.7',
  '::1',
]

const inRange = fc.oneof(
  byte.chain((a) => fc.tuple(byte, byte).map(([b, c]) => `10.${a}.${b}.${c}`)),
  byte.map((a) => `192.168.1.${a}`),
  fc.constant('127.0.0.1'),
  fc.tuple(fc.integer({ min: 16, max: 31 }), byte, byte).map(([a, b, c]) => `172.${a}.${b}.${c}`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `fd00::${x.toString(16)}`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `2001:db8:${x.toString(16)}::1`),
  fc.tuple(fc.integer({ min: 64, max: 127 }), byte).map(([a, b]) => `::ffff:100.${a}.${b}.1`),
  fc.integer({ min: 1, max: 0xffff }).map((x) => `fe80::${x.toString(16)}`),
  fc.constant('203.0.113.7'),
  fc.constant('::1'),
)

/** A valid address in plain text (no port, brackets or zone), often inside RANGE_POOL. */
export const address = fc.oneof(inRange, inRange, ipv4, ipv6, mapped)

/** A trust list drawn from the pool. */
export const rangeList = fc.subarray(RANGE_POOL, { minLength: 1 })

/** Entry decorations that proxies write and that we accept: ports, brackets, white space. */
export const decorated = fc
  .tuple(address, fc.integer({ min: 0, max: 65535 }), fc.constantFrom('plain', 'port', 'brackets', 'spaces', 'tabs'))
  .map(([a, port, how]) => {
    const v6 = a.includes(':')
    switch (how) {
      case 'port':
        return v6 ? `[${a}]:${port}` : `${a}:${port}`
      case 'brackets':
        return v6 ? `[${a}]` : a
      case 'spaces':
        return `  ${a} `
      case 'tabs':
        return `\t${a}\t`
      default:
        return a
    }
  })

/** Entries that are not addresses. */
export const garbage = fc.oneof(
  fc.constantFrom('unknown', '_hidden', 'garbage', '', ' ', '::ffff:', '1.2.3.4:99999', '[::1', '0.0.0.0', '::', '127.1', '010.0.0.1', 'localhost'),
  fc.string({ maxLength: 20 }).filter((s) => !s.includes(',')),
)
