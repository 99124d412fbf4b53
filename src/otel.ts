/**
 * OpenTelemetry attributes of a resolved client, by the stable HTTP semantic conventions.
 *
 * The HTTP instrumentation takes `client.address` from the left-most X-Forwarded-For entry (or
 * Forwarded `for=`) without any trust check, so any client can write it. These attributes come
 * from {@link resolveClient} instead: `client.address` is the hop TRUST_PROXY's walk settled on.
 */
import type { ClientInfo } from './resolve.js'

/** The attributes, with OpenTelemetry's names; a key is absent when its value is not known. */
export interface OtelAttributes {
  /** The client, as decided by the trust policy (never a client-written header entry). */
  'client.address'?: string
  /** The client's port: known only when the client is the socket peer. */
  'client.port'?: number
  /** The socket peer: the host that connected to this server (the nearest proxy, or the client). */
  'network.peer.address'?: string
  'network.peer.port'?: number
  /** The host the client asked for (a trusted X-Forwarded-Host, or Host), without its port. */
  'server.address'?: string
  /** Its port, or the scheme's default port when the host has none. */
  'server.port'?: number
  /** `http` or `https`, as the client used it. */
  'url.scheme': 'http' | 'https'
}

/** What a ClientInfo does not hold: the socket's ports. */
export interface OtelConnection {
  /** `req.socket.remotePort`. */
  peerPort?: number | undefined
}

const isPortNumber = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 65535

/**
 * The semantic-convention attributes of a resolved request.
 *
 * ```js
 * span.setAttributes(otelAttributes(resolveClient(policy, req), { peerPort: req.socket.remotePort }))
 * ```
 */
export function otelAttributes(info: ClientInfo, connection?: OtelConnection): OtelAttributes {
  const out: OtelAttributes = { 'url.scheme': info.protocol }
  const peerPort = connection?.peerPort
  if (info.ip !== undefined) {
    out['client.address'] = info.ip
    if (info.trustedHops === 0 && isPortNumber(peerPort)) out['client.port'] = peerPort
  }
  if (info.peer !== undefined) {
    out['network.peer.address'] = info.peer
    if (isPortNumber(peerPort)) out['network.peer.port'] = peerPort
  }
  const host = info.host
  if (host !== undefined) {
    // host[:port], validated by resolveClient; an IPv6 literal keeps no brackets here.
    const close = host.startsWith('[') ? host.indexOf(']') : -1
    const colon = close >= 0 ? (host[close + 1] === ':' ? close + 1 : -1) : host.lastIndexOf(':')
    const name = close >= 0 ? host.slice(1, close) : colon >= 0 ? host.slice(0, colon) : host
    out['server.address'] = name
    const port = colon >= 0 ? Number(host.slice(colon + 1)) : info.protocol === 'https' ? 443 : 80
    if (isPortNumber(port)) out['server.port'] = port
  }
  return out
}
