/**
 * auditFields(info): the flat record an audit log line carries. Its keys and types are a
 * contract with whatever reads the log later, so they are pinned here.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { auditFields, parseTrustProxy, resolveClient } from '../src/index.js'

const KEYS = ['client_ip', 'peer_ip', 'forwarded_chain', 'trusted_hops', 'protocol', 'host', 'anomalies', 'client_ip_source', 'proxy_source_ip']

describe('auditFields', () => {
  it('gives every key, in a fixed order, with null for what is missing', () => {
    // A Unix socket peer that is not trusted: no address anywhere.
    const info = resolveClient(parseTrustProxy('10.0.0.0/8'), { remoteAddress: undefined, headers: { 'x-forwarded-for': '6.6.6.6' } })
    const record = auditFields(info)
    expect(Object.keys(record)).toEqual(KEYS)
    expect(record).toEqual({
      client_ip: null,
      peer_ip: null,
      forwarded_chain: [null],
      trusted_hops: 0,
      protocol: 'http',
      host: null,
      anomalies: ['forwarded-by-untrusted-peer'],
      client_ip_source: 'socket',
      proxy_source_ip: null,
    })
    // JSON keeps every key (undefined would have been dropped).
    expect(Object.keys(JSON.parse(JSON.stringify(record)))).toEqual(KEYS)
  })

  it('records a proxied request', () => {
    const info = resolveClient(parseTrustProxy('127.0.0.9/32, 10.0.0.0/8'), {
      remoteAddress: '::ffff:127.0.0.9',
      headers: {
        'x-forwarded-for': '6.6.6.6, 2001:DB8::0:1, 10.1.2.3',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'gateway.example:8443',
      },
    })
    expect(auditFields(info)).toEqual({
      client_ip: '2001:db8::1',
      peer_ip: '127.0.0.9',
      forwarded_chain: ['127.0.0.9', '10.1.2.3', '2001:db8::1'],
      trusted_hops: 2,
      protocol: 'https',
      host: 'gateway.example:8443',
      anomalies: [],
      client_ip_source: 'x-forwarded-for',
      proxy_source_ip: null,
    })
  })

  it('returns fresh arrays: a logger may keep or change the record', () => {
    const info = resolveClient(parseTrustProxy('1'), { remoteAddress: '127.0.0.1', headers: {} })
    const record = auditFields(info)
    record.forwarded_chain.push('x')
    record.anomalies.push('malformed-entry')
    expect(info.chain).toEqual(['127.0.0.1'])
    expect(info.anomalies).toEqual(['short-chain'])
  })

  it('for any request: JSON types only, and the chain ends at the client', () => {
    const policies = ['false', 'true', '1', '3', 'loopback', '10.0.0.0/8, ::1', 'unix, 127.0.0.0/8'].map((v) => parseTrustProxy(v))
    const entry = fc.oneof(
      fc.constantFrom('10.0.0.1', '127.0.0.1', '::1', '203.0.113.9', '[2001:db8::1]:443', 'unknown', '', '::ffff:10.1.1.1', 'fe80::1%eth0'),
      fc.string({ maxLength: 8 }),
    )
    fc.assert(
      fc.property(
        fc.constantFrom(...policies),
        fc.option(fc.constantFrom('10.0.0.2', '127.0.0.1', '::1', '::ffff:127.0.0.2', '198.51.100.1', 'garbage'), { nil: undefined }),
        fc.array(entry, { maxLength: 5 }),
        fc.option(fc.constantFrom('https', 'http', 'HTTPS', 'ftp'), { nil: undefined }),
        fc.option(fc.constantFrom('a.example', 'b.example:8080', 'bad host', '[::1]:80'), { nil: undefined }),
        (policy, remoteAddress, xff, proto, host) => {
          const headers: Record<string, string> = {}
          if (xff.length > 0) headers['x-forwarded-for'] = xff.join(',')
          if (proto !== undefined) headers['x-forwarded-proto'] = proto
          if (host !== undefined) headers.host = host
          const record = auditFields(resolveClient(policy, { remoteAddress, headers }))
          expect(Object.keys(record)).toEqual(KEYS)
          expect(JSON.parse(JSON.stringify(record))).toEqual(record)
          if (record.anomalies.includes('malformed-peer')) {
            // The socket address itself was unreadable: there is no chain to speak of.
            expect(record).toMatchObject({ client_ip: null, peer_ip: null, forwarded_chain: [], trusted_hops: 0 })
          } else {
            expect(record.forwarded_chain.length).toBe(record.trusted_hops + 1)
            expect(record.forwarded_chain[record.trusted_hops]).toBe(record.client_ip)
          }
          expect(['http', 'https']).toContain(record.protocol)
          for (const code of record.anomalies) expect(code).toMatch(/^[a-z-]+$/)
        },
      ),
      // Mutation runs (vitest.mutation.config.ts) set FC_RUNS to keep each mutant's test run short.
      { numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) * 4 : 2000 },
    )
  })
})
