/**
 * A provider's single-address header (docs/cdn.md, "The rule"): believed only when the walk stops
 * at a hop inside the provider's ranges, the socket peer itself or a hop that trusted proxies
 * appended; otherwise ignored with `edge-header-untrusted`; from the provider but absent,
 * `missing-edge-header`; malformed or repeated, `malformed-entry`. One row per clause, through
 * resolveClient, with explicit edge ranges (the provider presets change). Found unpinned by
 * mutation testing (docs/mutation-testing.md); nothing is parsed while the file is collected.
 */
import { describe, expect, it } from 'vitest'
import { type AnomalyCode, parseTrustProxy, resolveClient } from '../src/index.js'

const EDGE = '198.51.100.0/24'
const EDGE_HOP = '198.51.100.5'
const CLIENT = '203.0.113.9'
const DIRECT = '203.0.113.50'
const EDGE_CODES: AnomalyCode[] = ['edge-header-untrusted', 'missing-edge-header', 'malformed-entry']

type Row = [name: string, trust: string, peer: string, xff: string | undefined, header: string | string[] | undefined, ip: string, codes: AnomalyCode[], source: string]

const rows: Row[] = [
  ['the edge connects itself', 'loopback', EDGE_HOP, undefined, CLIENT, CLIENT, [], 'x-client-ip'],
  ['the edge behind a trusted proxy', 'loopback', '127.0.0.1', EDGE_HOP, CLIENT, CLIENT, [], 'x-client-ip'],
  ['the edge behind two trusted proxies', 'loopback', '127.0.0.1', `${EDGE_HOP}, 127.0.0.2`, CLIENT, CLIENT, [], 'x-client-ip'],
  ['the edge named in TRUST_PROXY too', `loopback, ${EDGE}`, '127.0.0.1', `${DIRECT}, ${EDGE_HOP}`, CLIENT, CLIENT, [], 'x-client-ip'],
  ['the edge peer named in TRUST_PROXY too', `loopback, ${EDGE}`, EDGE_HOP, DIRECT, CLIENT, CLIENT, [], 'x-client-ip'],
  ['a client that connects directly', 'loopback', DIRECT, undefined, CLIENT, DIRECT, ['edge-header-untrusted'], 'socket'],
  ['a client behind a trusted proxy, without the edge', 'loopback', '127.0.0.1', DIRECT, CLIENT, DIRECT, ['edge-header-untrusted'], 'x-forwarded-for'],
  ['a client that connects directly without the header', 'loopback', DIRECT, undefined, undefined, DIRECT, [], 'socket'],
  ['the edge without the header', 'loopback', EDGE_HOP, undefined, undefined, EDGE_HOP, ['missing-edge-header'], 'socket'],
  ['the edge behind a proxy without the header', 'loopback', '127.0.0.1', EDGE_HOP, undefined, EDGE_HOP, ['missing-edge-header'], 'x-forwarded-for'],
  ['the edge with a malformed header', 'loopback', EDGE_HOP, undefined, 'garbage', EDGE_HOP, ['malformed-entry'], 'socket'],
  ['the edge with the header twice', 'loopback', EDGE_HOP, undefined, [CLIENT, '203.0.113.10'], EDGE_HOP, ['malformed-entry'], 'socket'],
  ['the edge with an empty header', 'loopback', EDGE_HOP, undefined, '', EDGE_HOP, ['missing-edge-header'], 'socket'],
  ['a malformed entry before the edge is reached', 'loopback', '127.0.0.1', `${EDGE_HOP}, garbage`, CLIENT, '127.0.0.1', ['edge-header-untrusted', 'malformed-entry'], 'socket'],
  ['every hop trusted, the left-most not the edge', 'loopback', '127.0.0.1', '127.0.0.5', CLIENT, '127.0.0.5', ['edge-header-untrusted'], 'x-forwarded-for'],
  ['every hop trusted, the left-most the edge', `loopback, ${EDGE}`, '127.0.0.1', EDGE_HOP, CLIENT, CLIENT, [], 'x-client-ip'],
]

describe('a provider header is believed only from the provider', () => {
  it.each(rows)('%s', (_name, trust, peer, xff, header, ip, codes, source) => {
    const headers: Record<string, string | string[]> = {}
    if (xff !== undefined) headers['x-forwarded-for'] = xff
    if (header !== undefined) headers['x-client-ip'] = header
    const info = resolveClient(parseTrustProxy(trust), { remoteAddress: peer, headers }, { header: 'x-client-ip', edge: EDGE })
    expect(info.ip).toBe(ip)
    expect(info.anomalies.filter((a) => EDGE_CODES.includes(a)).sort()).toEqual([...codes].sort())
    // Behind the provider the client is the header's address: every hop was not trusted in vain.
    if (source === 'x-client-ip') expect(info.anomalies).not.toContain('all-hops-trusted')
    expect(info.source).toBe(source)
    expect(info.chain[info.chain.length - 1]).toBe(ip)
  })
})
