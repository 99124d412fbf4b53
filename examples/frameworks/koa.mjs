import Koa from 'koa'
import { auditFields, parseTrustProxy } from '@infram/trust-proxy'
import { koaClientIp } from '@infram/trust-proxy/koa'

const app = new Koa() // leave app.proxy false: the middleware decides who is a proxy
app.use(koaClientIp(parseTrustProxy(process.env.TRUST_PROXY)))
app.use((ctx) => {
  ctx.body = { ip: ctx.ip, protocol: ctx.protocol, audit: auditFields(ctx.state.clientInfo) }
})
app.listen(Number(process.env.PORT ?? 3000), '::')
