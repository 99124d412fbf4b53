/**
 * The startup check a hop count needs: who can reach the server.
 *
 * A hop count trusts whoever connects, without checking who it is. That is safe only when the
 * proxy is the one thing that can connect: the server listens on loopback and the proxy runs on
 * the same host. On any other listener (`0.0.0.0`, `::`, a LAN or container address) a client
 * that connects directly sends its own X-Forwarded-For and a hop count believes it.
 *
 * The rule: under a hop-count policy, a TCP listener whose address is not a loopback address
 * (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) gets one warning per server, naming the fix. A Unix
 * socket listener gets none (only local processes can connect to it), nor does any other policy
 * (ranges check every hop; `none` and `all` have warnings of their own).
 */
import { canonicalizeIp } from '../ip-text.js'
import type { TrustPolicy } from '../policy.js'

/** What `server.address()` returns: an AddressInfo, a pipe path, or null before listening. */
export type ListenAddress = { address: string; port?: number; family?: string | number } | string | null | undefined

/** The warning for a hop-count policy on this listener, or undefined when there is nothing to say. */
export function listenerWarning(policy: TrustPolicy, address: ListenAddress): string | undefined {
  if (policy?.kind !== 'hops') return undefined
  if (typeof address !== 'object' || address === null || typeof address.address !== 'string') return undefined
  const host = canonicalizeIp(address.address) ?? address.address
  if (isLoopback(host)) return undefined
  const where = host.includes(':') ? `[${host}]` : host
  const port = address.port !== undefined ? `:${address.port}` : ''
  const all = host === '0.0.0.0' || host === '::' || address.address === '0.0.0.0' || address.address === '::'
  return (
    `TRUST_PROXY=${policy.hops} is a hop count, and this server listens on ${where}${port}` +
    `${all ? ' (every interface)' : ''}, which other hosts can reach: a client that connects to it ` +
    'directly can write its own address in X-Forwarded-For, and a hop count believes it. ' +
    'Fix: name the proxy instead (TRUST_PROXY=loopback when it runs on this host, or its address ' +
    'or subnet, e.g. the Docker bridge gateway 172.17.0.1), or listen on 127.0.0.1 only.'
  )
}

function isLoopback(canonical: string): boolean {
  return canonical === '::1' || /^127\.\d+\.\d+\.\d+$/.test(canonical)
}
