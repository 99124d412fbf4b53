/**
 * The README's Hono middleware on Bun or Deno, with the runtime's own `getConnInfo`
 * (`hono/bun` reads `server.requestIP`, `hono/deno` reads `info.remoteAddr`), for
 * test/adapters-runtimes.test.ts.
 */
import { Hono } from 'hono'
import { parseTrustProxy } from '@infram/trust-proxy'
import { honoClientIp } from '@infram/trust-proxy/web'

const deno = globalThis.Deno
const env = (name) => (deno ? deno.env.get(name) : globalThis.process.env[name])
const { getConnInfo } = await import(deno ? 'hono/deno' : 'hono/bun')

const app = new Hono()
app.use(honoClientIp(parseTrustProxy(env('TRUST_PROXY')), { getConnInfo }))
app.get('/', (c) => c.json({ peer: getConnInfo(c).remote.address ?? null, clientIp: c.get('clientIp') ?? null, clientInfo: c.get('clientInfo') }))

const port = Number(env('PORT'))
if (deno) deno.serve({ hostname: '::', port, onListen() {} }, app.fetch)
else globalThis.Bun.serve({ hostname: '::', port, fetch: app.fetch })
