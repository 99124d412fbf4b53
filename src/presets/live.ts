/**
 * A policy that follows {@link refreshPresets}: for servers that refresh the provider lists while
 * they run and want every request to use the lists in use, without re-wiring Express or Fastify.
 */
import { POLICY, type TrustFunction, type TrustPolicy } from '../policy.js'
import { type TrustProxyInput, parseTrustProxy } from '../policy-parse.js'
import { presetGeneration } from './registry.js'

/**
 * A {@link TrustPolicy} that is re-parsed after each successful preset refresh. It can be handed
 * to everything that takes a policy (`resolveClient`, `resolveClientIp`, the adapters), and its
 * `trust` to Express or Fastify; `current` is the plain policy in use at this moment.
 */
export type LivePolicy = TrustPolicy & {
  /** The policy for the preset lists in use now (re-parsed after a refresh, on first read). */
  readonly current: TrustPolicy
}

/**
 * Parses `value` now (a bad value throws here, at startup, like {@link parseTrustProxy}) and
 * again after each successful preset refresh. The value was valid once and a refresh only swaps
 * in validated lists, so the re-parse cannot fail; if it ever did, the previous policy is kept.
 *
 * ```js
 * const live = livePolicy(process.env.TRUST_PROXY)
 * app.use(clientIp(live))
 * setInterval(() => refreshPresets().then(report), 24 * 3600_000).unref()
 * ```
 */
export function livePolicy(value: TrustProxyInput): LivePolicy {
  let policy = parseTrustProxy(value)
  let seen = presetGeneration()
  const read = (): TrustPolicy => {
    const g = presetGeneration()
    if (g !== seen) {
      seen = g
      try {
        policy = parseTrustProxy(value)
      } catch {
        // Keep the policy in use: never fall to trusting nothing or everything.
      }
    }
    return policy
  }
  const trust: TrustFunction = (addr, hop) => read().trust(addr, hop)
  // Every field of a TrustPolicy, read through to the current one: the walk reads the internals
  // under the POLICY brand once per request (the same policy for one request, as a swap only
  // happens in a refresh's own turn of the event loop).
  const live: Record<string, unknown> = {
    get current() {
      return read()
    },
    trust,
    toString: () => read().toString(),
    toJSON: () => read().toJSON(),
  }
  for (const key of ['kind', 'hops', 'ranges', 'warnings'] as const) {
    Object.defineProperty(live, key, { get: () => read()[key], enumerable: true })
  }
  Object.defineProperty(live, POLICY, { get: () => read()[POLICY] })
  return Object.freeze(live) as unknown as LivePolicy
}
