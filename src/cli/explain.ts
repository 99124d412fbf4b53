/**
 * Plain words for a policy and for each step of the walk.
 *
 * An operator who sets TRUST_PROXY must be able to read back what it does, in terms of the
 * request they are looking at: which address is taken as the client and why. The decision, and
 * the reason for each hop (which range matched, which hop count applied, why an entry is not an
 * address), are the core's (`traceClient`); this module only puts them into words.
 */
import type { ClientTrace, MalformedReason, TraceHop, TrustPolicy } from '../index.js'
import { UNIX_MEANING, namedRanges } from '../named-ranges.js'
import { edgeMeaning, presetSummary } from './presets.js'
import { edgeHopReason, edgeNotReached } from './edge-walk.js'

/** A range entry with what it covers, for display: `loopback (127.0.0.0/8, ::1)`. */
export function describeRange(text: string): string {
  const named = text === 'unix' ? UNIX_MEANING : (namedRanges(text)?.join(', ') ?? presetSummary(text))
  return named === undefined ? text : `${text} (${named})`
}

function ordinal(n: number): string {
  const tens = n % 100
  if (tens >= 11 && tens <= 13) return `${n}th`
  return n + (n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th')
}

/** Past this many entries, a policy's meaning names the first ones and counts the rest. */
const MAX_RANGES_LISTED = 32

/**
 * What a policy means, in one or two sentences, for the X-Forwarded-For header (or the header
 * named by `header`).
 */
export function describePolicy(policy: TrustPolicy, header = 'X-Forwarded-For'): string {
  const edge = edgeMeaning(header)
  if (edge !== undefined) return `${describePolicy(policy)} ${edge}`
  switch (policy.kind) {
    case 'none':
      return (
        `No proxy is trusted: the client is the socket peer, and ${header}, X-Forwarded-Proto and ` +
        'X-Forwarded-Host are ignored. Right when clients connect to the app directly; behind a proxy, every ' +
        "client is recorded as the proxy's address."
      )
    case 'all':
      return (
        `Every hop is trusted: the client is the left-most ${header} entry, which any client can write ` +
        'for itself. Name your proxies instead.'
      )
    case 'hops': {
      const n = policy.hops!
      if (n === 1) {
        return `1 hop: the socket peer is a proxy; the client is the right-most ${header} entry.`
      }
      const proxies = n === 2 ? `the right-most ${header} entry are` : `the ${n - 1} right-most ${header} entries are`
      return `${n} hops: the socket peer and ${proxies} proxies; the client is the ${ordinal(n)} ${header} entry from the right.`
    }
    default: {
      // A provider list of thousands of ranges is not read one by one: name the first few.
      const ranges = [...new Set(policy.ranges)]
      const shown = ranges.length <= MAX_RANGES_LISTED ? ranges : ranges.slice(0, MAX_RANGES_LISTED)
      const rest = ranges.length - shown.length
      return (
        `A hop is a proxy when its address is in: ${shown.map(describeRange).join('; ')}` +
        `${rest > 0 ? `; and ${rest.toLocaleString('en')} more (${ranges.length.toLocaleString('en')} entries in all)` : ''}. ` +
        `The walk starts at the socket peer and moves left through ${header} while each address is in ` +
        'the list; the client is the first address that is not.' +
        (policy.trust('127.0.0.1', 0)
          ? ' This trusts every process on this host that connects from 127.0.0.1; for nginx on the same host, ' +
            'prefer `proxy_bind 127.0.0.9;` in nginx and TRUST_PROXY=127.0.0.9.'
          : '')
      )
    }
  }
}

const plural = (n: number) => `${n} trusted hop${n === 1 ? '' : 's'}`

/** Why the core's rule trusted (or did not trust) a hop, in words. */
function ruleText(policy: TrustPolicy, hop: TraceHop): string {
  switch (hop.rule) {
    case 'trust-none':
      return 'TRUST_PROXY trusts no proxy'
    case 'trust-all':
      return 'TRUST_PROXY trusts every hop'
    case 'hop-count':
      return `hop ${hop.hop} is within the ${plural(policy.hops ?? 0)}`
    case 'beyond-hop-count':
      return `hop ${hop.hop} is beyond the ${plural(policy.hops ?? 0)}`
    case 'range':
      return hop.matched === undefined ? 'in the trusted ranges' : `in ${describeRange(hop.matched)}`
    case 'not-in-ranges':
      return hop.address === null ? 'no IP address, and the list does not name unix' : 'in none of the trusted ranges'
    case 'trust-function':
      return hop.trusted === true ? 'the trust function trusts it' : 'the trust function does not trust it'
    default:
      return ''
  }
}

/** Why an entry is not an address, in words. */
export const MALFORMED_TEXT: Readonly<Record<MalformedReason, string>> = {
  'empty': 'an empty item',
  'too-long': 'longer than any address with its port: the reader stops here',
  'unreadable': 'a Forwarded element with an unbalanced quote, or over 1024 characters: the reader stops here',
  'bad-element': 'not a well-formed Forwarded element (RFC 7239: name=value pairs separated by ";", each parameter once)',
  'no-for': 'a Forwarded element without for=',
  'unknown': 'the RFC 7239 word "unknown": the proxy did not know the address',
  'obfuscated': 'an RFC 7239 obfuscated identifier, which names no address',
  'repeated': 'the single-address header arrived more than once: which copy did the proxy write?',
  'not-an-address': 'not an IP address (with an optional port)',
}

/** The step's machine rule: the core's, or for a trusted client why the walk ended there. */
export function stepRule(trace: ClientTrace, hop: TraceHop): TraceHop['rule'] | 'leftmost' | 'last-verified' {
  if (hop.rule === 'edge') return hop.rule
  if (hop.role === 'client' && hop.trusted === true) return trace.stop === 'malformed' ? 'last-verified' : 'leftmost'
  return hop.rule
}

/** The reason shown for one hop of the walk. */
export function hopReason(policy: TrustPolicy, trace: ClientTrace, hop: TraceHop, header: string): string {
  const edge = edgeHopReason(trace, hop, header)
  if (edge !== undefined) return edge
  if (hop.role === 'malformed') {
    if (hop.hop === 0) return 'the socket address is not an IP address: no client can be given'
    if (hop.from === trace.header && trace.edge !== undefined) return `${MALFORMED_TEXT[hop.malformed ?? 'not-an-address']}: not believed, the edge hop is the client`
    return `${MALFORMED_TEXT[hop.malformed ?? 'not-an-address']}: the walk stops before it`
  }
  if (hop.role === 'ignored') return `left of the ${trace.stop === 'edge' ? 'edge hop' : 'client'}: not read (anyone can write these)`
  return walkReason(policy, trace, hop, header) + edgeNotReached(trace, hop, header)
}

function walkReason(policy: TrustPolicy, trace: ClientTrace, hop: TraceHop, header: string): string {
  const text = ruleText(policy, hop)
  if (hop.role === 'client' && hop.trusted === true) {
    if (trace.stop === 'malformed') return `trusted (${text}), but the next entry is not an address: the walk stops here, at the last verified hop`
    if (hop.hop === 0) return `trusted (${text}), but no ${displayWalked(trace, header)} entry names anyone else: the peer is the client`
    return `trusted (${text}), and the left-most entry: nothing further left, so it is the client (a trusted proxy wrote it)`
  }
  return (hop.trusted === true ? 'trusted: ' : 'not trusted: ') + text
}

/** The walked header's display name: `header`, or X-Forwarded-For behind an edge header. */
function displayWalked(trace: ClientTrace, header: string): string {
  return trace.walked === trace.header ? header : 'X-Forwarded-For'
}
