// Deno: the socket address of a request is the handler's `info.remoteAddr`.
import { parseTrustProxy } from '@infram/trust-proxy'
import { resolveWebRequest } from '@infram/trust-proxy/web'

const policy = parseTrustProxy(Deno.env.get('TRUST_PROXY')) // a bad value stops the server here

const socket = Deno.env.get('UNIX_SOCKET')
const listen = socket ? { path: socket } : { hostname: '::', port: Number(Deno.env.get('PORT') ?? 3000) }

Deno.serve(listen, (req, info) => {
  // { transport: 'tcp', hostname, port } on TCP; { transport: 'unix', path } has no address.
  const addr = info.remoteAddr
  const peer = addr.transport === 'tcp' ? addr.hostname : undefined
  const client = resolveWebRequest(policy, req, peer)
  return Response.json({ peer: peer ?? null, client })
})
