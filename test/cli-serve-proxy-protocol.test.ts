/**
 * `trust-proxy serve --proxy-protocol` as a real process: the page and the JSON report say
 * whether a PROXY header arrived, from which balancer (the TCP peer), and what it said; a peer
 * TRUST_PROXY does not trust is refused and logged once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServeProcess, ensureBuilt, startServe } from './support/cli-run.js'
import { encodeV1, encodeV2 } from './support/proxy-header.js'
import { BALANCER, exchange, jsonBody } from './support/proxy-protocol-net.js'

const JSON_GET = 'GET /x HTTP/1.1\r\nHost: gateway.test\r\nAccept: application/json\r\nConnection: close\r\n\r\n'
const HTML_GET = 'GET / HTTP/1.1\r\nHost: gateway.test\r\nAccept: text/html\r\nConnection: close\r\n\r\n'

describe('serve --proxy-protocol', () => {
  let s: ServeProcess
  beforeAll(async () => {
    await ensureBuilt()
    s = await startServe(['--proxy-protocol', '--trust-proxy', `${BALANCER}/32`])
  }, 60_000)
  afterAll(async () => {
    await s?.stop()
  })

  it('says on startup that it reads the PROXY protocol', async () => {
    for (let i = 0; i < 100 && !/PROXY protocol: on/.test(s.stderr()); i++) await new Promise((r) => setTimeout(r, 20))
    expect(s.stderr()).toMatch(/PROXY protocol: on/)
  })

  it('a v1 header: the report names the balancer and the source, and the client is the source', async () => {
    const r = jsonBody((await exchange(s.port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1', 40000, 443), JSON_GET])).text)
    expect(r.proxyProtocol).toMatchObject({ received: true, loadBalancer: BALANCER, version: 1, command: 'proxy', source: { address: '203.0.113.7', port: 40000 }, destination: { address: '10.0.0.1', port: 443 } })
    expect(r.client).toBe('203.0.113.7')
    expect(r.resolved).toMatchObject({ client: '203.0.113.7', peer: BALANCER })
    // The peer's port is the balancer's own, not the PROXY source's 40000.
    expect(r.request.peer.address).toBe(BALANCER)
    expect(r.request.peer.port).not.toBe(40000)
    expect(r.request.peer.port).toBeGreaterThan(0)
    const line = await s.waitForAudit((l) => l.path === '/x' && (l.proxyProtocol as { source?: string } | undefined)?.source === '203.0.113.7')
    expect(line).toMatchObject({ client: '203.0.113.7', proxyProtocol: { received: true, loadBalancer: BALANCER, version: 1 } })
  })

  it('a v2 header with TLVs: shown on the page, escaped', async () => {
    const header = encodeV2({ source: '2001:db8::7', family: 'ipv6', tlvs: [{ type: 0x02, value: 'gateway.test' }, { type: 0x01, value: 'http/1.1' }] })
    const { text } = await exchange(s.port, BALANCER, [header, HTML_GET])
    expect(text).toContain('<h2>PROXY protocol</h2>')
    expect(text).toMatch(/id="proxy-protocol-summary" data-received="true">A PROXY v2 header from 127\.0\.0\.9 says the client is 2001:db8::7 port 5555/)
    expect(text).toContain('<td id="proxy-protocol-balancer">127.0.0.9</td>')
    expect(text).toContain('<td id="proxy-protocol-tlv">authority=gateway.test, alpn=http/1.1</td>')
  })

  it('no header from the balancer: the page says none arrived and what to switch on', async () => {
    const r = jsonBody((await exchange(s.port, BALANCER, [JSON_GET])).text)
    expect(r.proxyProtocol).toMatchObject({ received: false, loadBalancer: BALANCER, source: null })
    expect(r.proxyProtocol.summary).toMatch(/send-proxy/)
    expect(r.client).toBe(BALANCER)
  })

  it('LOCAL (a health check): the balancer is the client', async () => {
    const r = jsonBody((await exchange(s.port, BALANCER, [encodeV2({ command: 'local', family: 'unspec', transport: 'unspec' }), JSON_GET])).text)
    expect(r.proxyProtocol).toMatchObject({ received: true, command: 'local', source: null })
    expect(r.client).toBe(BALANCER)
  })

  it('a peer TRUST_PROXY does not trust is refused, and one line says so', async () => {
    expect((await exchange(s.port, '127.0.0.20', [encodeV1('203.0.113.7', '10.0.0.1'), JSON_GET])).refused).toBe(true)
    const line = await s.waitForAudit((l) => l.event === 'proxy-protocol-refused')
    expect(line).toMatchObject({ reason: 'untrusted-peer', peer: '127.0.0.20' })
    expect(s.auditLines().filter((l) => l.event === 'proxy-protocol-refused')).toHaveLength(1)
    // A malformed header from the balancer closes that connection only.
    expect((await exchange(s.port, BALANCER, ['PROXY TCP4 1.2.3.4 nonsense\r\n', JSON_GET])).refused).toBe(true)
    await s.waitForAudit((l) => l.event === 'proxy-protocol-refused' && l.reason === 'v1-syntax')
    expect(jsonBody((await exchange(s.port, BALANCER, [encodeV1('203.0.113.8', '10.0.0.1'), JSON_GET])).text).client).toBe('203.0.113.8')
  })

  it('without --proxy-protocol the report has no proxyProtocol field', async () => {
    const plain = await startServe(['--trust-proxy', `${BALANCER}/32`])
    try {
      const r = jsonBody((await exchange(plain.port, BALANCER, [JSON_GET])).text)
      expect(r).not.toHaveProperty('proxyProtocol')
      expect(plain.stderr()).not.toMatch(/PROXY protocol/)
    } finally {
      await plain.stop()
    }
  })
})
