// Declarations for `require('@infram/trust-proxy/proxy-addr')`. At run time the CommonJS build
// sets `module.exports` to the proxyaddr function itself (as `require('proxy-addr')` returns it),
// but tsup declares a default export, so TypeScript CommonJS code would see `.default`. This
// replaces dist/proxy-addr.d.cts with the `export =` form that matches the run time.
import { writeFileSync } from 'node:fs'

const dts = `import type * as types from './proxy-addr.js'

/**
 * proxy-addr 2.0.8's API: the address of the client, the first address from the socket leftwards
 * through X-Forwarded-For that \`trust\` does not trust (or the left-most one when all are trusted).
 */
declare function proxyaddr(req: types.ProxyAddrRequest, trust: types.ProxyAddrTrust): string | undefined
declare namespace proxyaddr {
  const all: types.ProxyAddr['all']
  const compile: types.ProxyAddr['compile']
  type ProxyAddr = types.ProxyAddr
  type ProxyAddrRequest = types.ProxyAddrRequest
  type ProxyAddrTrust = types.ProxyAddrTrust
  type ProxyAddrTrustFunction = types.ProxyAddrTrustFunction
}
export = proxyaddr
`
writeFileSync(new URL('../dist/proxy-addr.d.cts', import.meta.url), dts)
