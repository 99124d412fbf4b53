/**
 * Plain words for a policy and for each step of the walk.
 *
 * An operator who sets TRUST_PROXY must be able to read back what it does, in terms of the
 * request they are looking at: which address is taken as the client and why. The decision
 * itself is always the core's (`resolveClient`); this module only re-derives the reason for
 * each hop (which range matched, which hop count applied) so that it can be shown.
 */
import { type TrustFunction, type TrustPolicy, parseTrustProxy } from '../index.js'

/** What the names in a range list stand for (the same sets the core compiles). */
export const NAMED_RANGES: Readonly<Record<string, string>> = {
  loopback: '127.0.0.0/8, ::1',
  linklocal: '169.254.0.0/16, fe80::/10',
  uniquelocal: '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7',
  private:
    '127.0.0.0/8, ::1, 169.254.0.0/16, fe80::/10, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, 100.64.0.0/10',
  unix: 'a peer with no IP address (a Unix domain socket)',
}

/** A range entry with what it covers, for display: `loopback (127.0.0.0/8, ::1)`. */
export function describeRange(text: string): string {
  const named = Object.prototype.hasOwnProperty.call(NAMED_RANGES, text) ? NAMED_RANGES[text] : undefined
  return named === undefined ? text : `${text} (${named})`
}

function ordinal(n: number): string {
  const tens = n % 100
  if (tens >= 11 && tens <= 13) return `${n}th`
  return n + (n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th')
}

/**
 * What a policy means, in one or two sentences, for the X-Forwarded-For header (or the header
 * named by `header`).
 */
export function describePolicy(policy: TrustPolicy, header = 'X-Forwarded-For'): string {
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
    default:
      return (
        `A hop is a proxy when its address is in: ${[...new Set(policy.ranges)].map(describeRange).join('; ')}. ` +
        `The walk starts at the socket peer and moves left through ${header} while each address is in ` +
        'the list; the client is the first address that is not.' +
        (policy.trust('127.0.0.1', 0)
          ? ' This trusts every process on this host that connects from 127.0.0.1; for nginx on the same host, ' +
            'prefer `proxy_bind 127.0.0.9;` in nginx and TRUST_PROXY=127.0.0.9.'
          : '')
      )
  }
}

/** Why a hop is, or is not, trusted: a machine code and its words. */
export interface HopReason {
  trusted: boolean
  /**
   * `trust-none` | `trust-all` | `hop-count` (trusted: hop < n) | `beyond-hop-count` |
   * `range` (trusted: `matched` says which entry) | `not-in-ranges`.
   */
  rule: 'trust-none' | 'trust-all' | 'hop-count' | 'beyond-hop-count' | 'range' | 'not-in-ranges'
  /** For `range`: the policy entry that covers the address. */
  matched?: string
  text: string
}

/**
 * Re-derives, for display, why the policy trusts (or not) one hop. One single-entry policy per
 * range, so that the entry that matched can be named; built once per policy.
 */
export function hopExplainer(policy: TrustPolicy): (addr: string | undefined, hop: number) => HopReason {
  const singles: { text: string; trust: TrustFunction }[] =
    policy.kind === 'ranges' ? policy.ranges.map((text) => ({ text, trust: parseTrustProxy(text).trust })) : []
  return (addr, hop) => {
    switch (policy.kind) {
      case 'none':
        return { trusted: false, rule: 'trust-none', text: 'TRUST_PROXY trusts no proxy' }
      case 'all':
        return { trusted: true, rule: 'trust-all', text: 'TRUST_PROXY trusts every hop' }
      case 'hops': {
        const n = policy.hops!
        return hop < n
          ? { trusted: true, rule: 'hop-count', text: `hop ${hop} is within the ${n} trusted hop${n === 1 ? '' : 's'}` }
          : { trusted: false, rule: 'beyond-hop-count', text: `hop ${hop} is beyond the ${n} trusted hop${n === 1 ? '' : 's'}` }
      }
      default: {
        const hit = singles.find((s) => s.trust(addr, hop))
        if (hit !== undefined) return { trusted: true, rule: 'range', matched: hit.text, text: `in ${describeRange(hit.text)}` }
        return {
          trusted: false,
          rule: 'not-in-ranges',
          text: addr === undefined ? 'no IP address, and the list does not name unix' : 'in none of the trusted ranges',
        }
      }
    }
  }
}
