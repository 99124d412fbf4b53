// The walk `trust-proxy serve` and `resolve` show, from the library: traceClient.
import { parseTrustProxy, traceClient } from '@infram/trust-proxy'

const policy = parseTrustProxy('127.0.0.1, 10.0.0.0/8')
const trace = traceClient(policy, {
  remoteAddress: '127.0.0.1',
  headers: { 'x-forwarded-for': 'unknown, 203.0.113.7, 10.0.0.3' },
})

console.log(`client ${trace.client.ip}, the walk stopped: ${trace.stop}`)
for (const hop of trace.hops) {
  const why = hop.matched ?? hop.malformed ?? hop.rule
  console.log(`hop ${hop.hop} ${hop.role.padEnd(7)} ${JSON.stringify(hop.raw).padEnd(15)} ${why}`)
}
