/**
 * The socket peer, as it was when the connection arrived.
 *
 * Node reports `socket.remoteAddress` as undefined both for a Unix socket and for a TCP
 * connection that closed before anything read the address. An app that reads the client IP
 * after an `await` (Infram writes its audit row after a database query) would then record no
 * client for a client that hung up right after sending its login, and under a hop count or
 * `unix` it would take the closed TCP socket for an address-less proxy hop and believe
 * whatever X-Forwarded-For said.
 *
 * So the peer is captured when the connection is accepted, through Node's public
 * `node:diagnostics_channel` channel `net.server.socket` (published by every `net.Server`,
 * `http`, `https` and the servers of express-ws, ws and Fastify included, for every accepted
 * TCP or pipe connection, before a byte of the request is parsed; added to Node in 2022 and in
 * every release line this package supports; where it is missing, the live address is used).
 * It covers plain requests and WebSocket upgrades alike, which `http.server.request.start` does
 * not (it is not published for upgrades). Nothing is patched: a subscriber only reads the
 * address and keeps it in a WeakMap, so it goes when the socket goes.
 *
 * - An address at accept time is kept; a late read returns it.
 * - No address at accept time on a pipe server is a Unix socket: no address, and it stays so.
 * - No capture (a socket made before this module loaded, or not by a `net.Server`) falls back
 *   to the socket's current address; if that is gone because the socket is closed, and it is
 *   not known to be a pipe, the peer is unknown, never "a Unix socket".
 */
import { channel } from 'node:diagnostics_channel'

/** A captured peer: its address, or null for a connection that has none (a Unix socket). */
type Captured = string | null

interface Registry {
  peers: WeakMap<object, Captured>
  /** Held so that the channel (and its subscription) is never collected (Node 18 holds channels weakly). */
  channel: ReturnType<typeof channel>
}

// Each entry point (and the ESM and CommonJS builds) carries its own copy of this module; they
// share one registry and one subscription through a global symbol.
const KEY = Symbol.for('@infram/trust-proxy/peer-capture')

interface SocketLike {
  remoteAddress?: string | undefined
  destroyed?: boolean
  server?: { address?: () => unknown } | null
  _parent?: unknown
}

function isPipeServer(socket: SocketLike): boolean {
  try {
    return typeof socket.server?.address?.() === 'string'
  } catch {
    return false
  }
}

function registry(): Registry {
  const g = globalThis as unknown as { [KEY]?: Registry }
  let r = g[KEY]
  if (r === undefined) {
    const peers = new WeakMap<object, Captured>()
    const ch = channel('net.server.socket')
    ch.subscribe((message) => {
      const socket = (message as { socket?: SocketLike } | null)?.socket
      if (typeof socket !== 'object' || socket === null) return
      const address = socket.remoteAddress
      if (typeof address === 'string' && address !== '') peers.set(socket, address)
      else if (isPipeServer(socket)) peers.set(socket, null)
      // A TCP connection already reset before it was accepted: nothing is recorded, and the
      // late read below reports it as unknown.
    })
    r = g[KEY] = { peers, channel: ch }
  }
  return r
}

const { peers } = registry()

/** Marks a peer that is not known: a closed TCP socket whose address nobody captured. */
export const UNKNOWN_PEER = 'closed-socket'

/**
 * The peer address of `socket` as it was when the connection arrived: an address, undefined for
 * a Unix socket (or no socket), or {@link UNKNOWN_PEER} for a closed connection whose address was
 * never read (the walk treats it as a malformed peer: no client, nothing trusted).
 */
export function peerOf(socket: SocketLike | null | undefined): string | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined
  let captured = peers.get(socket)
  // A TLS socket wraps the TCP socket that was accepted (`_parent`, since Node 0.x).
  if (captured === undefined && typeof socket._parent === 'object' && socket._parent !== null) {
    captured = peers.get(socket._parent)
  }
  if (captured !== undefined) return captured ?? undefined
  const now = socket.remoteAddress
  if (typeof now === 'string' && now !== '') return now
  // Anything else that is not undefined or null is not an address: the walk says malformed-peer.
  if (now !== undefined && now !== null) return UNKNOWN_PEER
  if (socket.destroyed === true && !isPipeServer(socket)) return UNKNOWN_PEER
  return undefined
}
