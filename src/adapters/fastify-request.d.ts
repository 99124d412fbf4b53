// `request.clientIp` and `request.clientInfo` on Fastify's request type, where fastify is
// installed. scripts/dts-fixups.mjs appends the `declare module` block below (from its marker
// line on) to dist/fastify.d.ts and dist/fastify.d.cts, where `ClientInfo` is in scope; in a
// declaration file the block is ignored when fastify is not installed.
import type { ClientInfo } from '../index.js'

// augmentation:
declare module 'fastify' {
  interface FastifyRequest {
    /** The client address decided by the trust-proxy plugin; undefined when there is none. */
    clientIp: string | undefined
    /** The full `resolveClient` result for this request (peer, chain, protocol, host, anomalies). */
    clientInfo: ClientInfo
  }
}
