/**
 * Issue 5, chains: HAProxy (TLS, source 127.0.0.10) in front of nginx (TLS, proxy_bind
 * 127.0.0.9) in front of the app, both rendered from the same templates as the single-proxy
 * tests. The chain the app sees is [nginx, HAProxy, client].
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { AnomalyCode } from '../src/index.js'
import {
  AppSlot,
  Cleanup,
  type Certificate,
  describeWithProxies,
  makeCertificate,
  makeWorkDir,
  type RunningProxy,
  startProxy,
} from './support/proxies.js'
import { publicHost, wsSession } from './support/proxy-clients.js'
import { type Client, FORGED_HEADERS, V4_CLIENT, V6_CLIENT, via } from './support/proxy-suite.js'

const NGINX = '127.0.0.9'
const HAPROXY = '127.0.0.10'
const LIST = `${NGINX}, ${HAPROXY}`
/** A client that reaches nginx without going through HAProxy. */
const BYPASS: Client = { from: '127.0.0.66', connect: '127.0.0.1' }

describeWithProxies('HAProxy in front of nginx in front of the app', ['haproxy', 'nginx'], () => {
  const cleanup = new Cleanup()
  const app = cleanup.add(new AppSlot('127.0.0.1'))
  let cert: Certificate
  let nginx: RunningProxy
  let haproxy: RunningProxy
  /** The same chain, but nginx replaces X-Forwarded-For instead of appending to it. */
  let nginxReplacing: RunningProxy
  let haproxyToReplacing: RunningProxy

  beforeAll(async () => {
    try {
      const dir = cleanup.addDir(await makeWorkDir())
      cert = await makeCertificate(dir)
      await app.start(LIST)
      ;[nginx, nginxReplacing] = await Promise.all([
        cleanup.track(startProxy('nginx', { upstream: app.upstream, cert })),
        cleanup.track(startProxy('nginx', { upstream: app.upstream, cert, xff: 'replace' })),
      ])
      const haproxyTo = (n: RunningProxy): Promise<RunningProxy> =>
        cleanup.track(startProxy('haproxy', { upstream: { host: '127.0.0.1', port: n.httpsPort }, cert, upstreamTls: true }))
      ;[haproxy, haproxyToReplacing] = await Promise.all([haproxyTo(nginx), haproxyTo(nginxReplacing)])
    } catch (e) {
      await cleanup.run()
      throw e
    }
  })

  afterAll(async () => {
    await cleanup.run()
  })

  function expectChainResolved(r: Awaited<ReturnType<typeof via>>, client: Client): void {
    expect(r.ip, JSON.stringify(r)).toBe(client.from)
    expect(r.chain).toEqual([NGINX, HAPROXY, client.from])
    expect(r.trustedHops).toBe(2)
    expect(r.protocol).toBe('https')
    expect(r.host).toBe(publicHost(haproxy.httpsPort))
    expect(r.anomalies).toEqual([])
    expect(r.expressIp).toBe(client.from)
  }

  for (const policy of ['2', LIST]) {
    it(`TRUST_PROXY=${policy}: IPv4 and IPv6 clients resolved through both proxies, forged headers ignored`, async () => {
      await app.start(policy)
      for (const client of [V4_CLIENT, V6_CLIENT]) {
        expectChainResolved(await via(haproxy, cert, client), client)
        expectChainResolved(await via(haproxy, cert, client, FORGED_HEADERS), client)
      }
    })
  }

  it('WebSockets through both proxies for 2 s, attributed to the client', async () => {
    await app.start(LIST)
    const s = await wsSession({ connect: V6_CLIENT.connect, port: haproxy.httpsPort, from: V6_CLIENT.from, ca: cert.ca, durationMs: 2000 })
    expectChainResolved(s.hello, V6_CLIENT)
    expect(s.sent).toBeGreaterThanOrEqual(8)
    expect(s.echoes.map((e) => e.data)).toEqual(Array.from({ length: s.sent }, (_, i) => `msg-${i + 1}`))
    expect(s.ticks).toBeGreaterThanOrEqual(8)
    expect(s.tickIps).toEqual(new Set([V6_CLIENT.from]))
  })

  for (const policy of ['1', NGINX]) {
    it(`TRUST_PROXY=${policy} (one proxy too few): every client is HAProxy, with no anomaly`, async () => {
      await app.start(policy)
      for (const client of [V4_CLIENT, V6_CLIENT]) {
        const r = await via(haproxy, cert, client, { 'x-forwarded-for': '6.6.6.6' })
        expect(r.ip).toBe(HAPROXY)
        expect(r.anomalies).toEqual([])
      }
    })
  }

  it('a client reaching nginx directly with a forged X-Forwarded-For is caught by the list', async () => {
    await app.start(LIST)
    const r = await via(nginx, cert, BYPASS, { 'x-forwarded-for': '6.6.6.6' })
    expect(r.received.xForwardedFor).toBe(`6.6.6.6, ${BYPASS.from}`)
    // 127.0.0.66 is not HAProxy, so the walk stops there: the bypassing client's real address.
    expect(r.ip).toBe(BYPASS.from)
    expect(r.chain).toEqual([NGINX, BYPASS.from])
    expect(r.anomalies).toEqual([])
  })

  it('under TRUST_PROXY=2 the same client is believed when it forges an entry, and is a short-chain when it does not', async () => {
    await app.start('2')
    const forged = await via(nginx, cert, BYPASS, { 'x-forwarded-for': '6.6.6.6' })
    // A hop count cannot check who is connected: the bypass counts as the second proxy.
    expect(forged.ip).toBe('6.6.6.6')
    expect(forged.chain).toEqual([NGINX, BYPASS.from, '6.6.6.6'])
    expect(forged.anomalies).toEqual([])
    const plain = await via(nginx, cert, BYPASS)
    expect(plain.ip).toBe(BYPASS.from)
    expect(plain.anomalies).toEqual(['short-chain' satisfies AnomalyCode])
  })

  it('nginx replacing X-Forwarded-For behind HAProxy: every client is HAProxy (short-chain under 2, all-hops-trusted under the list)', async () => {
    await app.start('2')
    let r = await via(haproxyToReplacing, cert, V4_CLIENT)
    expect(r.received.xForwardedFor).toBe(HAPROXY)
    expect(r.ip).toBe(HAPROXY)
    expect(r.anomalies).toEqual(['short-chain' satisfies AnomalyCode])
    await app.start(LIST)
    r = await via(haproxyToReplacing, cert, V4_CLIENT)
    expect(r.ip).toBe(HAPROXY)
    expect(r.anomalies).toEqual(['all-hops-trusted' satisfies AnomalyCode])
  })
})
