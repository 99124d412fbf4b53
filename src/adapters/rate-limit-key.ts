/**
 * What the rate-limit key generators of the Express and Fastify adapters share: the key of a
 * request's client, and the mistakes express-rate-limit's own checks catch, reported the same way
 * (once each) because a custom key generator switches those checks off.
 */
import type { ClientInfo, TrustPolicy } from '../index.js'
import { type RateLimitKeyOptions, ipv6SubnetOf, keyOf } from '../rate-limit.js'

export interface KeyGeneratorOptions extends RateLimitKeyOptions {
  /** The forwarding header to read, as for `resolveClient` (default `x-forwarded-for`). */
  header?: string
  /** Where the setup warnings go; default `process.emitWarning` (stderr). */
  warn?: (message: string, code: string) => void
}

/** The warnings' codes, for filtering them in `process.on('warning')`. */
export const TRUST_ALL_CODE = 'TRUST_PROXY_RATE_LIMIT_TRUST_ALL'
export const UNEXPECTED_FORWARDED_CODE = 'TRUST_PROXY_RATE_LIMIT_UNEXPECTED_FORWARDED'

/**
 * Returns `(info) => key`, having checked the options (a TypeError at setup for a bad one).
 *
 * - Trust-all (`TRUST_PROXY=true`): warned at once, as express-rate-limit's
 *   ERR_ERL_PERMISSIVE_TRUST_PROXY: any client picks its own key by writing X-Forwarded-For.
 * - Trust-none with a forwarding header on a request: warned on the first such request, as
 *   ERR_ERL_UNEXPECTED_X_FORWARDED_FOR: a proxy is probably in front and every user shares the
 *   proxy's bucket.
 */
export function keyFromInfo(policy: TrustPolicy, options: KeyGeneratorOptions | undefined, where: string): (info: ClientInfo) => string {
  const prefix = ipv6SubnetOf(options, where)
  const warn = options?.warn ?? defaultWarn
  if (policy.kind === 'all') {
    warn(
      `${where}: TRUST_PROXY trusts every hop, so any client can choose its own rate-limit key by ` +
        'sending X-Forwarded-For, and bypass the limit. Name your proxies instead (TRUST_PROXY=loopback, ' +
        'or their addresses).',
      TRUST_ALL_CODE,
    )
  }
  let warnedUnexpected = policy.kind !== 'none'
  return (info) => {
    if (!warnedUnexpected && info.anomalies.includes('forwarded-by-untrusted-peer')) {
      warnedUnexpected = true
      warn(
        `${where}: a request carries forwarding headers (X-Forwarded-For, ...) but TRUST_PROXY trusts ` +
          'no proxy. If a proxy is in front of this server, every user now shares the proxy\'s bucket: ' +
          'set TRUST_PROXY to the proxy (loopback, its address or subnet).',
        UNEXPECTED_FORWARDED_CODE,
      )
    }
    return keyOf(info.ip, prefix)
  }
}

function defaultWarn(message: string, code: string): void {
  process.emitWarning(message, { type: 'TrustProxyWarning', code })
}
