import { H3, serve } from 'h3'
import { parseTrustProxy } from '@infram/trust-proxy'
import { h3ClientIp } from '@infram/trust-proxy/h3'

// Drop-in replacements for h3's getRequestIP, getRequestProtocol and getRequestHost.
const { getRequestIP, getRequestProtocol } = h3ClientIp(parseTrustProxy(process.env.TRUST_PROXY))

const app = new H3().get('/', (event) => ({ ip: getRequestIP(event) ?? null, protocol: getRequestProtocol(event) }))
serve(app, { hostname: '::', port: Number(process.env.PORT ?? 3000), silent: true })
