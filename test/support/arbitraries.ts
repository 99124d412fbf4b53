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

// ---------------------------------------------------------------------------------------------
// Issue 11: the configuration edges.

/** The unspecified addresses in every spelling, with a prefix or a netmask (or none). */
export const unspecifiedEntry = fc.oneof(
  fc.tuple(fc.constantFrom('0.0.0.0'), fc.oneof(fc.constant(32), fc.integer({ min: 0, max: 32 }))).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.constantFrom('::', '0:0:0:0:0:0:0:0', '::0'), fc.oneof(fc.constant(128), fc.integer({ min: 0, max: 128 }))).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.constantFrom('::ffff:0.0.0.0', '::ffff:0:0'), fc.oneof(fc.constant(128), fc.integer({ min: 96, max: 128 }))).map(([a, p]) => `${a}/${p}`),
  fc.constantFrom('0.0.0.0/255.255.255.255', '0.0.0.0/255.255.255.254', '0.0.0.0/0.0.0.0', '0.0.0.0/255.0.0.0'),
)

/** An IPv4-mapped address with any prefix: below 96 it is ambiguous and refused. */
export const mappedAnyPrefix = fc
  .tuple(mapped, fc.oneof(fc.integer({ min: 0, max: 95 }), fc.integer({ min: 96, max: 128 })))
  .map(([a, p]) => `${a}/${p}`)

/**
 * A whole address family cut into pieces: the space split at random prefix boundaries into
 * adjacent CIDRs, shuffled, sometimes with one piece missing (`whole` false: not trust-all; the
 * value may then be empty).
 */
export const trustAllPieces = fc
  .tuple(fc.constantFrom(4 as const, 6 as const), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }), fc.boolean(), fc.nat())
  .map(([family, depths, dropOne, seed]) => {
    // Split [0, 2^bits) by a random binary partition: each step halves the last piece.
    const bits = family === 4 ? 32 : 128
    const pieces: [bigint, number][] = [[0n, 0]]
    for (const d of depths) {
      const [start, prefix] = pieces.pop()!
      const p = Math.min(prefix + d, bits)
      // [start, start + 2^(bits - prefix)) as a /p at its start, then a /p, /p-1, ... /prefix+1.
      pieces.push([start, p])
      let at = start + (1n << BigInt(bits - p))
      for (let q = p; q > prefix; q--) {
        pieces.push([at, q])
        at += 1n << BigInt(bits - q)
      }
    }
    const text = pieces.map(([v, p]) => `${family === 4 ? v4Text(v) : v6FromBig(v)}/${p}`)
    const whole = !dropOne
    if (dropOne) text.splice(seed % text.length, 1)
    const value = text.map((_, k) => text[(k + seed) % text.length]!).join(', ')
    return { family, value, whole }
  })

function v4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
}

function v6FromBig(v: bigint): string {
  const groups: number[] = []
  for (let k = 7; k >= 0; k--) groups.push(Number((v >> BigInt(16 * k)) & 0xffffn))
  return groups.map((g) => g.toString(16)).join(':')
}

/** Spaces and tabs, up to well past the item bound, for padding either side of an entry. */
export const padding = fc
  .tuple(fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 140, max: 320 })), fc.constantFrom(' ', '\t', ' \t'))
  .map(([n, unit]) => unit.repeat(n).slice(0, n))

/** Socket addresses that are not strings, or strings that are not addresses. */
export const oddPeer = fc.oneof(
  fc.constantFrom<unknown>('', 42, 0, true, false, {}, [], ['127.0.0.1'], { address: '127.0.0.1' }, Number.NaN, ' ', '\u0000'),
  fc.anything().filter((x) => x !== undefined && x !== null && typeof x !== 'string'),
)

/** Zones on IPv4-mapped addresses, in each text form. */
export const zonedMapped = fc
  .tuple(mapped, fc.constantFrom('eth0', 'lo', '1', 'en0.1'), fc.constantFrom('plain', 'brackets', 'port'))
  .map(([a, zone, how]) => (how === 'plain' ? `${a}%${zone}` : how === 'brackets' ? `[${a}%${zone}]` : `[${a}%${zone}]:443`))

/** White space outside ASCII that editors and web pages insert, invisibly. */
export const unicodeSpace = fc.constantFrom('\u00a0', '\ufeff', '\u2028', '\u2029', '\u3000', '\u2003', '\u202f', '\u1680', '\u205f')

/** Host header values that are not hosts (RFC 3986 / RFC 1123), beside ones that are. */
export const oddHost = fc.oneof(
  fc.constantFrom('..', '.', '-', 'a..example.com', '-a.example', 'a-.example', '[::]', '[::]:443', '[::ffff:0.0.0.0]', '127.1', '0x7f.0.0.1', '0.0.0.0', '256.1.1.1', '1.2.3.4.', 'a b', 'a/b', 'u@h', '[fe80::1%eth0]', 'h:', 'h:65536', 'h:-1', '[v1.x]', 'ex\u00e4mple.com'),
  fc.integer({ min: 64, max: 300 }).map((n) => `${'a'.repeat(n)}.example`),
  fc.integer({ min: 32, max: 80 }).map((n) => Array.from({ length: n }, () => 'abcdefgh').join('.')),
)
