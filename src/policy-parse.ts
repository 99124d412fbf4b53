/**
 * TRUST_PROXY -> TrustPolicy: the value's forms (keywords, hop counts, lists) and the list lexer.
 *
 * Everything that can be wrong with a TRUST_PROXY value is found here, once, at startup, and
 * thrown as a {@link TrustProxyError} that names the bad entry. A value that parses is then
 * compiled into numeric form so that nothing at request time can fail or be slow. The pieces:
 * range entries are parsed in cidr.ts, names come from named-ranges.ts, presets from presets/,
 * a list's entries become a policy in policy-entries.ts (which collects the warnings with
 * policy-warnings.ts), and the keywords and white space are policy-text.ts's.
 *
 * The two mistakes this module exists to prevent: Infram's old parser read `1` as "trust every
 * hop" (so any client could write its own audit IP), and Express reads the string `"1"` as the
 * address 0.0.0.1 (so the proxy is never trusted). Here `1` is one hop, always.
 */
import { EntryList, fromEntries } from './policy-entries.js'
import { TrustProxyError } from './policy-error.js'
import { ALL_WORDS, NONE_WORDS, UNICODE_SPACE, isDigits, isSpace, trimSpace, unicodeSpace } from './policy-text.js'
import { MAX_HOPS, TrustPolicy } from './policy.js'

// ---------------------------------------------------------------------------------------------
// Parsing

/** The inputs parseTrustProxy understands: the env string, or the forms Express accepts. */
export type TrustProxyInput = string | number | boolean | readonly string[] | null | undefined

/**
 * Parses a TRUST_PROXY value (the raw env string, a boolean, a number, an array of strings, or
 * undefined/null) into a {@link TrustPolicy}.
 *
 * Call it once at startup and let a {@link TrustProxyError} stop the process: a value that
 * cannot be read must not quietly become "trust nothing" (every client is the proxy) or
 * "trust everything" (every client can forge its IP).
 *
 * | value | policy |
 * |---|---|
 * | unset, empty, `false`, `0`, `off`, `no` | `none`: the client is the socket peer |
 * | `true`, `on`, `yes` | `all`: every hop trusted (warned: any client can forge its IP) |
 * | `1` .. `64` | `hops`: the socket peer and the next n-1 addresses are proxies |
 * | a list of addresses, CIDRs, netmasks and names | `ranges` |
 */
export function parseTrustProxy(value: TrustProxyInput): TrustPolicy {
  if (value === undefined || value === null || value === false) return policyNone()
  if (value === true) return policyAll()
  if (typeof value === 'number') return fromNumber(value)
  if (typeof value === 'string') return fromString(value)
  if (Array.isArray(value)) return fromArray(value)
  if (typeof value === 'function') {
    // Decided (docs/configuration-edges.md): a function is not a setting. The walk takes one as it is.
    throw new TrustProxyError(
      'invalid-type',
      'function',
      0,
      'a trust function is not a TRUST_PROXY setting: pass it as it is to resolveClientIp(fn, ...) or resolveClient(fn, ...), ' +
        'which call it with canonical addresses (Express and Fastify take it directly too); parseTrustProxy reads the values a deployment writes',
    )
  }
  throw new TrustProxyError(
    'invalid-type',
    describe(value),
    0,
    `a value of type ${typeof value} is not a TRUST_PROXY setting`,
  )
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'function'
  if (typeof value === 'symbol' || typeof value === 'bigint') return String(value)
  return Object.prototype.toString.call(value)
}

const policyNone = (): TrustPolicy => new TrustPolicy('none', undefined, [], undefined, false, [])

function policyAll(): TrustPolicy {
  return new TrustPolicy('all', undefined, [], undefined, true, [
    {
      code: 'trust-all',
      message:
        'Every hop is trusted: the client IP is the left-most X-Forwarded-For entry, which any client ' +
        'can write. Name your proxies instead (a hop count, or their addresses or ranges).',
    },
  ])
}

function policyHops(n: number): TrustPolicy {
  return new TrustPolicy('hops', n, [], undefined, true, [
    {
      code: 'hop-count',
      message:
        `A hop count (${n}) trusts whoever connects, without checking who it is: if this server can be ` +
        'reached without going through the proxy, any client can forge its IP. Prefer the proxy ' +
        "addresses or ranges (for example 127.0.0.9 for nginx on this host with `proxy_bind 127.0.0.9`, or " +
        '172.18.0.0/16 for a Docker network).',
    },
  ])
}

function fromNumber(n: number): TrustPolicy {
  const entry = String(n)
  if (!Number.isInteger(n) || n < 0) {
    throw new TrustProxyError('hop-count-format', entry, 0, 'a hop count is a whole number from 1 to ' + MAX_HOPS)
  }
  if (n === 0) return policyNone()
  if (n > MAX_HOPS) {
    throw new TrustProxyError('hop-count-range', entry, 0, `a hop count above ${MAX_HOPS} is not a real proxy chain`)
  }
  return policyHops(n)
}

function fromString(raw: string): TrustPolicy {
  const u = UNICODE_SPACE.exec(raw)
  if (u !== null) throw unicodeSpace(raw, u.index, undefined)
  let start = 0
  let end = raw.length
  while (start < end && isSpace(raw.charCodeAt(start))) start++
  while (end > start && isSpace(raw.charCodeAt(end - 1))) end--
  const whole = raw.slice(start, end)
  if (whole === '') return policyNone()
  const lower = whole.toLowerCase()
  if (NONE_WORDS.has(lower)) return policyNone()
  if (ALL_WORDS.has(lower)) return policyAll()
  if (isDigits(whole)) {
    if (whole.length > 1 && whole[0] === '0') {
      throw new TrustProxyError('hop-count-format', whole, start, 'a hop count has no leading zeros')
    }
    const n = Number(whole)
    if (n > MAX_HOPS) {
      throw new TrustProxyError(
        'hop-count-range',
        whole,
        start,
        `a hop count above ${MAX_HOPS} is not a real proxy chain (and a bare number is not an IPv4 address: write it in dotted form)`,
      )
    }
    return policyHops(n)
  }
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?$/i.test(whole) && looksLikeHopCount(whole)) {
    throw new TrustProxyError('hop-count-format', whole, start, 'a hop count is a whole number from 1 to ' + MAX_HOPS + ', with no sign, fraction or exponent')
  }
  // A list: entries separated by commas and/or white space. A comma needs an entry on each side.
  const entries = lexList(raw, start, end)
  return fromEntries(entries, entries.texts.length > 1)
}

/**
 * The entries of raw[start, end) (trimmed, not empty). They are found by the regex engine (a
 * 10,000-entry list is parsed cold, where a loop over its characters runs in the interpreter),
 * which also reads the octets and prefix of each strict IPv4 entry on the way; the separators
 * between them are checked here.
 */
function lexList(raw: string, start: number, end: number): EntryList {
  const entries = new EntryList()
  const { texts, positions, v4, bits } = entries
  const entry = LIST_ENTRY
  entry.lastIndex = start
  let after = start // where the last entry ended
  for (let m = entry.exec(raw); m !== null && m.index < end; m = entry.exec(raw)) {
    const at = m.index
    // One character between two entries holds at most one comma: nothing to check.
    if (at - after > 1 || (at > after && after === start)) checkSeparator(raw, after, at, texts.length > 0)
    const text = m[0]
    const a = m[1]
    texts.push(text)
    positions.push(at)
    if (a === undefined) {
      v4.push(0)
      bits.push(-1)
    } else {
      const b = m[5]
      v4.push(((+a << 24) | (+m[2]! << 16) | (+m[3]! << 8) | +m[4]!) >>> 0)
      bits.push(b === undefined ? 32 : +b)
    }
    after = at + text.length
  }
  checkSeparator(raw, after, end, texts.length > 0)
  const comma = raw.indexOf(',', after)
  if (comma >= 0 && comma < end) throw new TrustProxyError('empty-entry', '', comma, 'the list ends with a comma')
  return entries
}

/** An octet of strict dotted-decimal IPv4: 0-255 without leading zeros. */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'

/**
 * One entry of a list: the longest run of characters that are not white space or a comma. When
 * the whole entry is a strict IPv4 address with an optional prefix length (0-32, no leading zero),
 * groups 1-4 are its octets and group 5 the prefix; anything else (IPv6, names, netmasks, and
 * every mistake) is left to the entry parsers, which say what is wrong with it.
 */
const LIST_ENTRY = new RegExp(`${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}(?:/(3[0-2]|[12]?[0-9]))?(?![^ \\t\\n\\v\\f\\r,])|[^ \\t\\n\\v\\f\\r,]+`, 'g')

/**
 * The separator between two entries (or before the first, or after the last) holds white space
 * and at most one comma, and none before the first entry: another comma has no entry before it.
 */
function checkSeparator(raw: string, from: number, to: number, afterEntry: boolean): void {
  let comma = raw.indexOf(',', from)
  if (comma < 0 || comma >= to) return
  if (afterEntry) comma = raw.indexOf(',', comma + 1)
  if (comma >= 0 && comma < to) throw new TrustProxyError('empty-entry', '', comma, 'the list has an empty item (a comma with no entry before it)')
}

/** Whether a numeric-looking value was meant as a hop count (as opposed to an IPv4 shorthand). */
function looksLikeHopCount(s: string): boolean {
  if (/^[+-]|e/i.test(s)) return true
  const dot = s.indexOf('.')
  return dot <= 0 || Number(s.slice(0, dot)) <= MAX_HOPS
}

function fromArray(arr: readonly unknown[]): TrustPolicy {
  if (arr.length === 0) return policyNone()
  const entries = new EntryList()
  arr.forEach((item, k) => {
    if (typeof item !== 'string') {
      throw new TrustProxyError('invalid-type', describe(item), k, 'every element of a TRUST_PROXY array must be a string')
    }
    const u = UNICODE_SPACE.exec(item)
    if (u !== null) throw unicodeSpace(item, u.index, k)
    const text = trimSpace(item)
    if (text === '') throw new TrustProxyError('empty-entry', item, k, 'the list has an empty item')
    if (/[\s,]/.test(text)) {
      throw new TrustProxyError('invalid-address', item, k, 'an array element holds one entry; split lists into separate elements')
    }
    entries.add(text, k)
  })
  return fromEntries(entries, true)
}
