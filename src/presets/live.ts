/**
 * A policy that follows {@link refreshPresets}: for servers that refresh the provider lists while
 * they run and want every request to use the lists in use, without re-wiring Express or Fastify.
 */
import { type TrustFunction, type TrustPolicy, type TrustProxyInput, parseTrustProxy } from '../policy.js'
import { presetGeneration } from './registry.js'

export interface LivePolicy {
  /** The policy for the preset lists in use now (re-parsed after a refresh, on first read). */
  readonly current: TrustPolicy
  /** `trust(addr, hop)` of the current policy, for `app.set('trust proxy', live.trust)`. */
  readonly trust: TrustFunction
}

/**
 * Parses `value` now (a bad value throws here, at startup, like {@link parseTrustProxy}) and
 * again after each successful preset refresh. The value was valid once and a refresh only swaps
 * in validated lists, so the re-parse cannot fail; if it ever did, the previous policy is kept.
 *
 * ```js
 * const live = livePolicy(process.env.TRUST_PROXY)
 * app.set('trust proxy', live.trust)
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
  return Object.freeze({
    get current() {
      return read()
    },
    trust: (addr: string | undefined, hop: number) => read().trust(addr, hop),
  })
}
