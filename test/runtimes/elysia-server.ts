/**
 * Elysia on Bun with the trust-proxy plugin, for test/adapters-runtimes.test.ts: `/` answers
 * with the plugin's result over HTTP, `/ws` sends it as the first WebSocket message.
 */
import { Elysia } from 'elysia'
import { parseTrustProxy } from '@infram/trust-proxy'
import { elysiaClientIp } from '@infram/trust-proxy/elysia'

const app = new Elysia()
  .use(elysiaClientIp(parseTrustProxy(process.env.TRUST_PROXY)))
  .get('/', ({ clientIp, clientInfo, request, server }) => ({
    peer: server?.requestIP(request)?.address ?? null,
    clientIp: clientIp ?? null,
    clientInfo,
  }))
  .ws('/ws', {
    open(ws) {
      ws.send(JSON.stringify({ peer: ws.remoteAddress ?? null, clientIp: ws.data.clientIp ?? null, clientInfo: ws.data.clientInfo }))
    },
  })

// Elysia hands these options to Bun.serve, which also takes `unix`.
app.listen(process.env.UNIX_SOCKET ? ({ unix: process.env.UNIX_SOCKET } as object) : { hostname: '::', port: Number(process.env.PORT) })
