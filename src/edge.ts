/**
 * Edge headers: the single-address headers a CDN or platform edge writes (`CF-Connecting-IP`,
 * `True-Client-IP`, `Fly-Client-IP`), believed only when the request came from that edge.
 *
 * The rule. The chain is the usual one: the socket peer (hop 0), then the X-Forwarded-For
 * entries from right to left. Walk it from hop 0 through the hops TRUST_PROXY trusts (your own
 * proxies), stopping at the first hop that is inside the edge's ranges or not trusted. The header
 * is believed only when that hop is inside the edge's ranges: the edge itself connected to us
 * (hop 0), or a trusted proxy of ours saw the edge connect to it and appended its address to
 * X-Forwarded-For. Otherwise the header was written by someone who is not the edge (a client that
 * reached our nginx directly, or the app itself), it is ignored, the client is the hop the walk
 * stopped at, and the `edge-header-untrusted` anomaly says so.
 *
 * The edge check comes before TRUST_PROXY's at every hop, so `TRUST_PROXY=loopback, cloudflare`
 * behaves like `loopback`: the walk stops at the Cloudflare hop instead of passing it.
 */
import { type TrustPolicy, policyInternals } from './policy.js'
import { parseTrustProxy } from './policy-parse.js'
import { presetGeneration } from './presets/registry.js'
import { isListHeader } from './headers.js'

/**
 * The provider headers and the preset each is tied to by default. `true-client-ip` is written by
 * Cloudflare (Enterprise, or its "True-Client-IP" managed transform) and by Akamai; Akamai users
 * tie it to their own ranges with `edge`. Fly.io does not publish the addresses its proxy
 * connects from, so `fly-client-ip` has no default: it must be given `edge`.
 */
export const EDGE_HEADERS: Readonly<Record<string, string | undefined>> = Object.freeze({
  'cf-connecting-ip': 'cloudflare',
  'true-client-ip': 'cloudflare',
  'fly-client-ip': undefined,
})

/** What `options.edge` may be: a TRUST_PROXY-style range list (names and presets too) or a parsed range policy. */
export type EdgeRanges = string | readonly string[] | TrustPolicy

interface Cached {
  policy: TrustPolicy
  generation: number
}

/** Parsed edge lists by their text; re-parsed after a preset refresh. */
const cache = new Map<string, Cached>()
const CACHE_MAX = 64

function compile(spec: string | readonly string[], header: string): TrustPolicy {
  const key = typeof spec === 'string' ? spec : '\u0000' + spec.join('\u0000')
  const hit = cache.get(key)
  const generation = presetGeneration()
  if (hit !== undefined && hit.generation === generation) return hit.policy
  let policy: TrustPolicy
  try {
    policy = parseTrustProxy(spec)
  } catch (e) {
    throw new TypeError(`options.edge for ${header}: ${(e as Error).message}`)
  }
  checkRanges(policy, header)
  if (cache.size >= CACHE_MAX) cache.clear()
  cache.set(key, { policy, generation })
  return policy
}

function checkRanges(policy: TrustPolicy, header: string): void {
  if (policy.kind !== 'ranges' || policy.warnings.some((w) => w.code === 'trust-all')) {
    throw new TypeError(
      `options.edge for ${header} must name the edge's address ranges (a preset such as cloudflare, or CIDRs), ` +
        `not ${policy.kind === 'ranges' ? 'a whole address family' : JSON.stringify(policy.toString())}`,
    )
  }
}

/**
 * @internal The ranges that gate `header`, or undefined when it is not an edge header: one of
 * {@link EDGE_HEADERS}, or any single-address header given `options.edge`. Throws a TypeError
 * (a configuration error, caught at setup by the adapters' checks) for an edge header without
 * ranges or with a list that is not ranges.
 */
export function edgeRangesFor(header: string, edge: EdgeRanges | undefined): TrustPolicy | undefined {
  if (edge === undefined) {
    if (header === 'x-forwarded-for') return undefined // the default, without a lookup
    if (!Object.prototype.hasOwnProperty.call(EDGE_HEADERS, header)) return undefined
    const preset = EDGE_HEADERS[header]
    if (preset === undefined) {
      throw new TypeError(
        `${header} is written by a platform edge whose addresses are not published: say which ranges deliver it, ` +
          `for example { header: '${header}', edge: '172.16.0.0/12' }`,
      )
    }
    return compile(preset, header)
  }
  if (isListHeader(header)) {
    throw new TypeError(`options.edge ties a single-address header to an edge; ${header} is a list, walked with TRUST_PROXY`)
  }
  if (typeof edge === 'string' || Array.isArray(edge)) return compile(edge as string | readonly string[], header)
  if (policyInternals(edge) !== undefined) {
    checkRanges(edge as TrustPolicy, header)
    return edge as TrustPolicy
  }
  throw new TypeError(`options.edge must be a range list (string or array) or a policy from parseTrustProxy(), got ${typeof edge}`)
}
