// Audit records: one flat, JSON-friendly object per request. Run it: node examples/audit.mjs
import { auditFields, parseTrustProxy, resolveClient } from '@infram/trust-proxy'

const policy = parseTrustProxy('127.0.0.9')
const requests = {
  'through nginx': { remoteAddress: '127.0.0.9', headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' } },
  'a Unix socket peer': { remoteAddress: undefined, headers: {} },
  'a malformed peer': { remoteAddress: 'not-an-address', headers: { 'x-forwarded-for': '203.0.113.7' } },
}
for (const [name, req] of Object.entries(requests)) {
  const record = auditFields(resolveClient(policy, req))
  console.log(`${name}: ${JSON.stringify(record)}`)
}
