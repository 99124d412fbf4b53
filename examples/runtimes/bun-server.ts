// Bun: the socket address of a request is `server.requestIP(req)` (null on a Unix socket).
import { parseTrustProxy } from '@infram/trust-proxy'
import { resolveWebRequest } from '@infram/trust-proxy/web'

const policy = parseTrustProxy(process.env.TRUST_PROXY) // a bad value stops the server here

const server = Bun.serve({
  ...(process.env.UNIX_SOCKET ? { unix: process.env.UNIX_SOCKET } : { hostname: '::', port: Number(process.env.PORT ?? 3000) }),
  fetch(req, server) {
    const peer = server.requestIP(req)?.address
    const client = resolveWebRequest(policy, req, peer)
    return Response.json({ peer: peer ?? null, client })
  },
})
console.log(`listening on ${server.url}`)
