/**
 * The one-pass reader of common Forwarded elements (src/readers/forwarded-back.ts) against the
 * syntax's definition (src/readers/forwarded-element.ts: the element's start found with quotes
 * respected, then its pairs read left to right). The one-pass reader may decline any element;
 * when it accepts one, it must find the same start and the same parameters, or a forged `for=`
 * could be read differently depending on which way an element happened to take.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseElementBack } from '../src/readers/forwarded-back.js'
import { ElementParams, MAX_ELEMENT, elementStart, parseElement } from '../src/readers/forwarded-element.js'

const RUNS = Number(process.env.FC_RUNS ?? 500)

/** What a reading found: the comma before the element, and the parameters' bounds. */
function fields(comma: number, p: ElementParams) {
  const { forStart, forEnd, forEscaped, protoStart, protoEnd, protoEscaped, hostStart, hostEnd, hostEscaped } = p
  return { comma, forStart, forEnd, forEscaped, protoStart, protoEnd, protoEscaped, hostStart, hostEnd, hostEscaped }
}

/** The element ending at `end` read by the definition: its comma and parameters, or null when it is not well formed. */
function defined(s: string, end: number) {
  const comma = elementStart(s, end)
  if (comma < -1) return null
  const p = new ElementParams()
  return parseElement(s, comma + 1, end, p) ? fields(comma, p) : null
}

/** The element ending at `end` read in one pass, or null when the one-pass reader declines it. */
function onePass(s: string, end: number) {
  const p = new ElementParams()
  const comma = parseElementBack(s, end, p)
  return comma < -1 ? null : fields(comma, p)
}

/** Pieces that make every rule of the syntax come up: names, delimiters, quotes, escapes, white space. */
const piece = fc.constantFrom(
  'for', 'FOR', 'proto', 'Host', 'host', 'by', 'fo', 'x', '=', '"', '\\', ';', ',', ' ', '\t',
  '[', ']', ':', '1', '192.0.2.1', '2001:db8::1', '_hidden', 'unknown', 'https', 'é', '\u0000', '==',
)
const soup = fc.array(piece, { maxLength: 24 }).map((p) => p.join(''))

/** Well-formed pairs of the kinds proxies write (unquoted tokens without `=`, quoted values without escapes). */
const name = fc.constantFrom('for', 'For', 'proto', 'host', 'by', 'x-id')
const token = fc.constantFrom('192.0.2.1', '_hidden', 'unknown', 'https', 'gw.example.com', '[2001:db8::1]:443', 'a:b')
const quoted = fc.constantFrom('[2001:db8::1]', '[2001:db8::1]:4711', '192.0.2.1:80', '', 'a,b;c', 'a b')
const ows = fc.constantFrom('', ' ', '\t', '  ')
const pair = fc.tuple(name, fc.oneof(token, quoted.map((q) => `"${q}"`))).map(([n, v]) => `${n}=${v}`)
const element = fc
  .tuple(fc.array(fc.tuple(ows, pair, ows), { minLength: 1, maxLength: 4 }), ows, fc.boolean(), ows)
  .map(([pairs, lead, trailingSemicolon, trail]) => lead + pairs.map(([a, p, b]) => a + p + b).join(';') + (trailingSemicolon ? ';' : '') + trail)

describe('the one-pass Forwarded reader agrees with the definition', () => {
  it('on any text: when it accepts an element, the definition reads the same start and parameters', () => {
    fc.assert(
      fc.property(soup, fc.nat(), (s, cut) => {
        const end = s.length === 0 ? 0 : cut % (s.length + 1)
        const fast = onePass(s, end)
        if (fast !== null) expect(defined(s, end)).toEqual(fast)
      }),
      { numRuns: RUNS * 4 },
    )
  })

  it('on headers of well-formed elements: the same, element after element', () => {
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 4 }), (elements) => {
        const s = elements.join(',')
        for (let end = s.length; end >= 0; ) {
          const want = defined(s, end)
          const fast = onePass(s, end)
          if (fast !== null) expect(want).toEqual(fast)
          // These elements are all of the kind it is for: with a for=, it must take them.
          if (want !== null && want.forStart >= 0) expect(fast).not.toBeNull()
          if (want === null) break
          end = want.comma
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('on near misses (a well-formed header with a character added, removed or changed): the same, whenever it accepts', () => {
    const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace'), piece })
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 3 }), fc.array(edit, { minLength: 1, maxLength: 2 }), (elements, edits) => {
        let s = elements.join(',')
        for (const { at, kind, piece: p } of edits) {
          const k = at % (s.length + 1)
          s = kind === 'insert' ? s.slice(0, k) + p + s.slice(k) : kind === 'delete' ? s.slice(0, k) + s.slice(k + 1) : s.slice(0, k) + p + s.slice(k + 1)
        }
        for (let end = s.length; end >= 0; ) {
          const want = defined(s, end)
          const fast = onePass(s, end)
          if (fast !== null) expect(want).toEqual(fast)
          if (want === null) break
          end = want.comma
        }
      }),
      { numRuns: RUNS * 4 },
    )
  })

  type Row = [name: string, header: string, accepted: boolean]
  const rows: Row[] = [
    ['what nginx-style proxies write', 'for="[2001:db8:cafe::17]:4711";proto=https;host=gw.example.com', true],
    ['for= with a by= after it, quoted', 'for="[fd00::1]";proto=https;by="[fd00::2]"', true],
    ['a trailing semicolon and white space', 'for=192.0.2.1; ', true],
    ['white space around the semicolons', 'for=192.0.2.1 ; proto=https', true],
    ['a comma inside quotes', 'for="a,b";proto=https', true],
    ['an escape in a quoted value (declined: the definition unescapes)', 'for="\\[2001:db8::1]"', false],
    ['an = inside an unquoted value (declined: ambiguous read from the right)', 'for=a=b', false],
    ['no for= (declined: the definition reports it)', 'proto=https', false],
    ['an empty unquoted value (declined)', 'for=', false],
    ['a repeated for= (declined; the definition refuses it)', 'for=192.0.2.1;for=192.0.2.2', false],
    ['white space before = (declined; not well formed)', 'for =192.0.2.1', false],
    ['an empty element', '', false],
    ['a pair without = after a good one (declined; not well formed)', 'for=192.0.2.1;x y', false],
    ['a pair with an empty name after a good one (declined; not well formed)', 'for=192.0.2.1;=x', false],
    ['a pair with an empty name before a good one (declined; not well formed)', '=x;for=192.0.2.1', false],
  ]
  it.each(rows)('%s', (_name, header, accepted) => {
    const fast = onePass(header, header.length)
    expect(fast !== null).toBe(accepted)
    if (fast !== null) expect(defined(header, header.length)).toEqual(fast)
  })

  // The bound at its edge: the character one past MAX_ELEMENT is white space, a delimiter, part of
  // a name or a value, or a quote. Only a comma there (or the header's start) leaves the element
  // within the bound.
  const edges: [first: string, within: boolean][] = [
    [',', true], [' ', false], ['\t', false], [';', false], ['x', false], ['"', false], ['=', false],
  ]
  it.each(edges)('an element whose character one past MAX_ELEMENT is %j', (first, within) => {
    for (const tail of ['', ' ', ';', '; ']) {
      for (const [head, body] of [
        ['for=192.0.2.1;x=', 'a'],
        ['x=', 'a'],
        ['for="', 'a'],
      ] as const) {
        // The element without `first` is MAX_ELEMENT long: `first` is the character left of it.
        const fill = MAX_ELEMENT - head.length - tail.length - (head.endsWith('"') ? 1 : 0) - (head.startsWith('x') ? 14 : 0)
        const value = body.repeat(fill) + (head.endsWith('"') ? '"' : '')
        const el = head.startsWith('x') ? `${head}${value};for=192.0.2.1${tail}` : `${head}${value}${tail}`
        expect(el.length).toBe(MAX_ELEMENT)
        const s = first + el
        const fast = onePass(s, s.length)
        const want = defined(s, s.length)
        if (fast !== null) expect(want).toEqual(fast)
        expect(fast !== null).toBe(within)
        // Not counting the character at the bound: the element is at the header's start.
        expect(onePass(el, el.length)).toEqual(defined(el, el.length))
        expect(onePass(el, el.length)).not.toBeNull()
      }
    }
  })

  it('declines an element longer than MAX_ELEMENT, and takes one of exactly MAX_ELEMENT after a comma', () => {
    const long = `for=192.0.2.1;x=${'a'.repeat(MAX_ELEMENT - 16)}`
    expect(long.length).toBe(MAX_ELEMENT)
    const s = `for=198.51.100.1,${long}`
    expect(onePass(s, s.length)).toEqual(defined(s, s.length))
    expect(onePass(s, s.length)?.comma).toBe(16)
    const over = `${s}a`
    expect(onePass(over, over.length)).toBeNull()
    expect(defined(over, over.length)).toBeNull()
  })
})
