import { Elysia } from 'elysia'
import { parseTrustProxy } from '@infram/trust-proxy'
import { elysiaClientIp } from '@infram/trust-proxy/elysia'

new Elysia()
  .use(elysiaClientIp(parseTrustProxy(process.env.TRUST_PROXY)))
  .get('/', ({ clientIp, clientInfo }) => ({ ip: clientIp ?? null, anomalies: clientInfo.anomalies }))
  .listen({ hostname: '::', port: Number(process.env.PORT ?? 3000) })
