/**
 * h3 2 with the trust-proxy replacements, served by h3's own `serve` on Bun or Deno (h3 picks
 * its srvx adapter by runtime), for test/adapters-runtimes.test.ts.
 */
import { H3, serve } from 'h3'
import { parseTrustProxy } from '@infram/trust-proxy'
import { h3ClientIp } from '@infram/trust-proxy/h3'

const env = (name) => (globalThis.Deno ? globalThis.Deno.env.get(name) : globalThis.process.env[name])
const { getRequestIP, getRequestProtocol, getRequestHost, getClientInfo } = h3ClientIp(parseTrustProxy(env('TRUST_PROXY')))

const app = new H3().get('/', (event) => ({
  peer: event.req.ip ?? null,
  clientIp: getRequestIP(event) ?? null,
  protocol: getRequestProtocol(event),
  host: getRequestHost(event),
  clientInfo: getClientInfo(event),
}))

serve(app, { hostname: '::', port: Number(env('PORT')), silent: true })
