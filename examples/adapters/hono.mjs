// Hono on Node (@hono/node-server); on Bun, Deno or workers, pass that runtime's getConnInfo.
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono } from 'hono'
import { parseTrustProxy } from '@infram/trust-proxy'
import { honoClientIp } from '@infram/trust-proxy/web'

const policy = parseTrustProxy(process.env.TRUST_PROXY)
const app = new Hono() // in TypeScript: new Hono<{ Variables: ClientIpVariables }>()
app.use(honoClientIp(policy, { getConnInfo }))
app.get('/', (c) => c.json({ ip: c.get('clientIp'), anomalies: c.get('clientInfo').anomalies }))

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  console.log(`listening on 127.0.0.1 port ${info.port}`)
})
