/**
 * `@infram/trust-proxy/proxy-protocol`: PROXY protocol (v1 and v2) for `node:net`, `node:http`
 * and `node:https` servers, and so for Express, Fastify, express-ws and `ws` on top of them.
 *
 * Node has no support for the PROXY protocol. This listener takes over the server's
 * `connection` event: for each new TCP connection it checks the peer, reads the header from the
 * raw socket (before any TLS handshake and before HTTP parsing), stores what it said on the
 * socket, puts the bytes after the header back, and only then hands the socket to the server's
 * own connection handling (http's parser, or tls's handshake). The header is read once per
 * connection; requests on a keep-alive connection, and WebSocket upgrades, all see it.
 *
 * The rule: a PROXY header is believed only from a TCP peer that the policy (or the separate
 * `loadBalancer` policy) trusts. Every other peer is refused at once: a server that speaks the
 * PROXY protocol is reached through its load balancer. A trusted peer must send a header unless
 * `requireHeader: false` (HAProxy's `accept-proxy` and nginx's `proxy_protocol` listen option
 * require one; allowing none is for a migration, or for a proxy on the same trusted network that
 * does not speak it).
 *
 * Every failure (untrusted peer, missing, malformed, truncated or oversized header, timeout)
 * closes that one connection, is counted in `stats`, and is reported once to `onReject`. The
 * server keeps serving everyone else. A header that does not arrive in time costs one timer.
 */
import type { Server, Socket } from 'node:net'
import { type TrustPolicy, canonicalizeIp } from '../index.js'
import {
  type ProxyConnection,
  type ProxyHeader,
  type ProxyHeaderErrorReason,
  PROXY_CONNECTION,
  proxyConnectionOf,
  V1_MAX_LENGTH,
  V2_MAX_LENGTH,
  decodeProxyHeader,
} from '../proxy-protocol.js'
import { checkSetup } from './policy-check.js'

export {
  decodeProxyHeader,
  proxyConnectionOf,
  ProxyHeaderError,
  type ProxyConnection,
  type ProxyDecodeResult,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyHeaderErrorReason,
  type ProxySslInfo,
  type ProxyTlv,
  type ProxyTlvInfo,
} from '../proxy-protocol.js'
export type { TrustPolicy }

/** Why the listener closed a connection. */
export type ProxyRejectReason =
  /** The TCP peer is trusted by neither the policy nor the `loadBalancer` policy. */
  | 'untrusted-peer'
  /**
   * A TCP connection reset before its peer's address could be read (Node reports none): nobody
   * can be trusted, so it is closed. HAProxy's plain TCP health checks do this.
   */
  | 'peer-gone'
  /** A trusted peer sent bytes that are not a PROXY header, and `requireHeader` is on. */
  | 'missing-header'
  /** The header did not arrive whole within `headerTimeout`. */
  | 'timeout'
  /** The peer closed (or the socket failed) before the header was complete. */
  | 'closed-early'
  /** The header itself is malformed, truncated by a bad length, or too large (see the decoder). */
  | ProxyHeaderErrorReason

export interface ProxyRejection {
  reason: ProxyRejectReason
  /** The TCP peer, canonical (undefined for a Unix socket). */
  peer: string | undefined
  /** A sentence for a log line. */
  message: string
}

export interface ProxyProtocolOptions {
  /** The TRUST_PROXY policy (`parseTrustProxy(process.env.TRUST_PROXY)`), the same one the resolver uses. */
  policy: TrustPolicy
  /**
   * Who may send a PROXY header, when that is not the policy itself: the load balancers'
   * addresses (an AWS NLB's subnet, the HAProxy host). With it, `policy` only describes the
   * proxies in front of the balancer, and the PROXY source is hop 0 of its walk.
   */
  loadBalancer?: TrustPolicy
  /** Whether a trusted peer must send a header (default true). False lets it connect without one. */
  requireHeader?: boolean
  /** How long the header may take to arrive, in milliseconds (default 5000). */
  headerTimeout?: number
  /** The largest header accepted, in bytes (default 4096; 108 to 65551). */
  maxHeaderSize?: number
  /** Called once for every connection the listener closes. Must not throw (if it does, the error is ignored). */
  onReject?: (rejection: ProxyRejection) => void
}

export interface ProxyProtocolStats {
  /** Connections handed on to the server with a header (v1 or v2). */
  accepted: number
  /** Of those, headers that said LOCAL or UNSPEC/UNKNOWN (the TCP peer is the client). */
  local: number
  /** Connections handed on without a header (`requireHeader: false`). */
  withoutHeader: number
  /** Connections closed, in total and by reason. */
  rejected: number
  reasons: Partial<Record<ProxyRejectReason, number>>
}

export interface ProxyProtocolListener {
  readonly stats: ProxyProtocolStats
  /** Configuration remarks worth logging at startup (for example: a hop count checks no address). */
  readonly warnings: readonly string[]
}

const WRAPPED = Symbol.for('@infram/trust-proxy.proxy-protocol-listener')

/**
 * Makes `server` read a PROXY protocol header at the start of every connection. Call it before
 * `server.listen()`; it returns the counters. Throws a TypeError (at setup) for bad options or a
 * server that already has the listener.
 *
 * ```js
 * const policy = parseTrustProxy(process.env.TRUST_PROXY) // 127.0.0.9/32: the balancer
 * const server = http.createServer(app)
 * acceptProxyProtocol(server, { policy })
 * server.listen(8080)
 * ```
 */
export function acceptProxyProtocol(server: Server, options: ProxyProtocolOptions): ProxyProtocolListener {
  if (typeof server !== 'object' || server === null || typeof (server as Server).listeners !== 'function') {
    throw new TypeError('acceptProxyProtocol: expected a net.Server, http.Server or https.Server')
  }
  const { policy, loadBalancer, requireHeader = true, headerTimeout = 5000, maxHeaderSize = 4096, onReject } = options ?? ({} as ProxyProtocolOptions)
  checkSetup(policy, undefined, 'acceptProxyProtocol')
  if (loadBalancer !== undefined) checkSetup(loadBalancer, undefined, 'acceptProxyProtocol (loadBalancer)')
  if (typeof requireHeader !== 'boolean') throw new TypeError('acceptProxyProtocol: requireHeader must be a boolean')
  if (!Number.isFinite(headerTimeout) || headerTimeout <= 0 || headerTimeout > 2 ** 31 - 1) {
    throw new TypeError('acceptProxyProtocol: headerTimeout must be a positive number of milliseconds')
  }
  if (!Number.isInteger(maxHeaderSize) || maxHeaderSize < V1_MAX_LENGTH + 1 || maxHeaderSize > V2_MAX_LENGTH) {
    throw new TypeError(`acceptProxyProtocol: maxHeaderSize must be an integer from ${V1_MAX_LENGTH + 1} to ${V2_MAX_LENGTH}`)
  }
  if (onReject !== undefined && typeof onReject !== 'function') throw new TypeError('acceptProxyProtocol: onReject must be a function')
  if ((server as unknown as Record<symbol, unknown>)[WRAPPED] === true) {
    throw new TypeError('acceptProxyProtocol: this server already reads the PROXY protocol')
  }

  const gate = loadBalancer ?? policy
  const warnings: string[] = []
  if (gate.kind === 'hops' || gate.kind === 'all') {
    warnings.push(
      `The load balancer is checked with "${gate.toString()}", which trusts whoever connects: any client that reaches ` +
        'this server directly can send a PROXY header and choose its address. Name the balancers (their addresses ' +
        'or ranges) in TRUST_PROXY or in the loadBalancer option.',
    )
  }
  if (gate.kind === 'none') warnings.push('TRUST_PROXY trusts no proxy: every connection will be refused.')

  const stats: ProxyProtocolStats = { accepted: 0, local: 0, withoutHeader: 0, rejected: 0, reasons: {} }
  // The server's own connection handling (http's parser, tls's handshake, the user's listeners
  // added so far) runs after the header, on a socket that then looks like any other.
  const inner = server.listeners('connection') as ((socket: Socket) => void)[]
  server.removeAllListeners('connection')
  Object.defineProperty(server, WRAPPED, { value: true })

  const handOn = (socket: Socket): void => {
    for (const fn of inner) fn.call(server, socket)
  }

  // A TLS server wraps the TCP socket in a TLSSocket, which reads its own peer address: give it
  // the PROXY source too, before the server's own secureConnection handling (http's) sees it.
  server.prependListener('secureConnection' as 'connection', (tlsSocket: Socket) => {
    const pc = proxyConnectionOf(tlsSocket)
    if (pc !== undefined) adoptSource(tlsSocket, pc)
  })

  server.on('connection', function proxyProtocolConnection(socket: Socket) {
    const peer = canonicalizeIp(socket.remoteAddress ?? '') ?? undefined
    let done = false
    let timer: ReturnType<typeof setTimeout> | undefined

    const reject = (reason: ProxyRejectReason, message: string): void => {
      if (done) return
      done = true
      cleanup()
      stats.rejected++
      stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1
      socket.destroy()
      if (onReject !== undefined) {
        try {
          onReject({ reason, peer, message })
        } catch {
          // A logging callback must not take the server down.
        }
      }
    }

    // A peer with an address that does not parse is not trusted (fail closed). No address at all
    // is a Unix socket on a server listening on a path, trusted when the policy names `unix`; on
    // a TCP server it is a connection already closed, never taken for a Unix socket.
    const trusted =
      socket.remoteAddress === undefined
        ? typeof server.address() === 'string' && gate.trust(undefined, 0)
        : peer !== undefined && gate.trust(peer, 0)

    let buffered: Buffer | undefined
    const onReadable = (): void => {
      let chunk: Buffer | null
      while (!done && (chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered === undefined ? chunk : Buffer.concat([buffered, chunk])
        const r = decodeProxyHeader(buffered, { maxLength: maxHeaderSize })
        if (r.kind === 'incomplete') {
          if (buffered.length >= maxHeaderSize) reject('too-large', `header longer than ${maxHeaderSize} bytes`)
          continue
        }
        if (r.kind === 'error') {
          reject(r.error.reason, r.error.message)
        } else if (r.kind === 'none') {
          if (requireHeader) reject('missing-header', `a trusted peer (${peer ?? 'a Unix socket'}) sent no PROXY header`)
          else accept(undefined, buffered)
        } else {
          accept(r.header, buffered.subarray(r.length))
        }
      }
    }
    const onEnd = (): void => reject('closed-early', `the peer closed before the PROXY header was complete`)
    const onError = (): void => reject('closed-early', `the connection failed before the PROXY header was complete`)
    function cleanup(): void {
      if (timer !== undefined) clearTimeout(timer)
      socket.removeListener('readable', onReadable)
      socket.removeListener('end', onEnd)
      socket.removeListener('close', onEnd)
      socket.removeListener('error', onError)
    }
    const accept = (header: ProxyHeader | undefined, rest: Buffer): void => {
      done = true
      cleanup()
      const pc: ProxyConnection = { loadBalancer: peer, loadBalancerPort: socket.remotePort, header, balancerIsHop: loadBalancer === undefined }
      ;(socket as unknown as Record<symbol, unknown>)[PROXY_CONNECTION] = pc
      adoptSource(socket, pc)
      if (header === undefined) stats.withoutHeader++
      else {
        stats.accepted++
        if (header.command === 'local' || header.family === 'unspec') stats.local++
      }
      // The application's first bytes go back in front of the stream: http's parser and tls's
      // handshake read them as if nothing had been taken.
      if (rest.length > 0) socket.unshift(rest)
      handOn(socket)
    }

    if (!trusted) {
      if (socket.remoteAddress === undefined && typeof server.address() !== 'string') {
        reject('peer-gone', 'a TCP connection reset before its address could be read (a health check that closes at once?)')
      } else {
        reject('untrusted-peer', `connection from ${peer ?? 'a Unix socket'}, which is not a trusted load balancer`)
      }
      return
    }
    timer = setTimeout(() => reject('timeout', `no complete PROXY header within ${headerTimeout} ms`), headerTimeout)
    socket.on('readable', onReadable)
    socket.on('end', onEnd)
    socket.on('close', onEnd)
    socket.on('error', onError)
  })

  return { stats, warnings: Object.freeze(warnings) }
}

/**
 * Like HAProxy's `accept-proxy`, the connection's source becomes the PROXY source: the socket's
 * `remoteAddress`, `remotePort` and `remoteFamily` say what the header said, so that code reading
 * the socket (Express's `req.ip`, rate limiters, `resolveClientIp`) sees the client, not the
 * balancer. The balancer stays in `proxyConnectionOf(socket).loadBalancer`. LOCAL, UNSPEC and
 * connections without a header keep the TCP peer.
 */
function adoptSource(socket: Socket, pc: ProxyConnection): void {
  const h = pc.header
  if (h === undefined || h.command !== 'proxy' || h.family === 'unspec') return
  const src = h.source
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(socket, name, { value, configurable: true, enumerable: false, writable: false })
  }
  define('remoteAddress', src?.address)
  define('remotePort', src?.port)
  define('remoteFamily', src === undefined ? undefined : h.family === 'ipv4' || !src.address.includes(':') ? 'IPv4' : 'IPv6')
}
