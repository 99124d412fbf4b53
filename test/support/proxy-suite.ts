/**
 * The end-to-end checks every proxy must pass, run once per proxy by `test/proxies-<kind>.test.ts`.
 *
 * Addresses: the proxy connects to the app from its own source address (see PROXIES); the test
 * clients connect from 127.0.0.55, 127.0.0.77 and ::1, never from 127.0.0.1 (Caddy's source).
 * Expected values come from the topology (who connected from where), never from a previous run.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { AnomalyCode } from '../../src/index.js'
import type { WhoAmI } from '../proxies/app.js'
import {
  AppSlot,
  Cleanup,
  type Certificate,
  describeWithProxies,
  makeCertificate,
  makeWorkDir,
  PROXIES,
  PUBLIC_HOST,
  type ProxyKind,
  type RunningProxy,
  startProxy,
} from './proxies.js'
import { publicHost, request, whoami, wsSession } from './proxy-clients.js'

export interface Client {
  /** The client's own source address. */
  from: string
  /** The proxy listener it connects to (same family). */
  connect: string
}

export const V4_CLIENT: Client = { from: '127.0.0.55', connect: '127.0.0.1' }
export const V4_CLIENT_2: Client = { from: '127.0.0.77', connect: '127.0.0.1' }
export const V6_CLIENT: Client = { from: '::1', connect: '::1' }
export const CLIENTS = [V4_CLIENT, V4_CLIENT_2, V6_CLIENT]

/** Every forwarding header a client might forge, with values that must never be believed. */
export const FORGED_HEADERS: Record<string, string> = {
  'x-forwarded-for': '6.6.6.6, 7.7.7.7',
  forwarded: 'for=6.6.6.6;proto=http;host=evil.test',
  'x-real-ip': '6.6.6.6',
  'x-forwarded-proto': 'http',
  'x-forwarded-host': 'evil.test',
}

/** The app's answer for `client` through `proxy`, over HTTPS. */
export function via(proxy: RunningProxy, cert: Certificate, client: Client, headers?: Record<string, string>): Promise<WhoAmI> {
  return whoami({ connect: client.connect, port: proxy.httpsPort, from: client.from, ca: cert.ca, headers })
}

/**
 * What a correctly resolved request through one proxy looks like. `anomalies` is empty unless the
 * test says otherwise (a client on the proxy's own trusted address is reported as all-hops-trusted).
 */
export function expectResolved(r: WhoAmI, client: Client, proxy: RunningProxy, anomalies: AnomalyCode[] = []): void {
  expect(r.ip, JSON.stringify(r)).toBe(client.from)
  expect(r.clientIp).toBe(client.from)
  expect(r.peer).toBe(proxy.source)
  expect(r.chain).toEqual([proxy.source, client.from])
  expect(r.protocol).toBe('https')
  expect(r.host).toBe(publicHost(proxy.httpsPort))
  expect(r.anomalies).toEqual(anomalies)
  // Express's own req.ip under the same policy agrees (proxy-addr's walk, valid input).
  expect(r.expressIp).toBe(client.from)
}

export function describeProxy(kind: ProxyKind): void {
  const spec = PROXIES[kind]

  describeWithProxies(`${kind} in front of the app`, [kind], () => {
    const cleanup = new Cleanup()
    const appV4 = cleanup.add(new AppSlot('127.0.0.1'))
    const appV6 = cleanup.add(new AppSlot('::1'))
    let cert: Certificate
    /** The config as shipped in the README. */
    let main: RunningProxy
    /** The same config with the app on ::1 (IPv6 between proxy and app). */
    let v6up: RunningProxy
    let passthrough: RunningProxy
    let replace: RunningProxy | undefined
    /** Forwards X-Forwarded-For only: no X-Forwarded-Proto, and no X-Forwarded-Host line where that can be forgotten. */
    let minimal: RunningProxy
    /** The proxy's exact source address: the recommended TRUST_PROXY. */
    let exact: string

    beforeAll(async () => {
      try {
        const dir = cleanup.addDir(await makeWorkDir())
        cert = await makeCertificate(dir)
        const source = spec.sourceV4 ?? '127.0.0.1'
        exact = `${source}/32`
        await appV4.start(exact)
        await appV6.start('::1')
        const start = (o: Parameters<typeof startProxy>[1]): Promise<RunningProxy> =>
          cleanup.track(startProxy(kind, o))
        ;[main, v6up, passthrough, minimal, replace] = await Promise.all([
          start({ upstream: appV4.upstream, cert }),
          start({ upstream: appV6.upstream, cert }),
          start({ upstream: appV4.upstream, cert, xff: 'passthrough' }),
          start({ upstream: appV4.upstream, cert, forwardProto: false, forwardHost: !spec.canOmitForwardedHost }),
          spec.defaultXff === 'replace' ? Promise.resolve(undefined) : start({ upstream: appV4.upstream, cert, xff: 'replace' }),
        ])
        replace ??= main
      } catch (e) {
        await cleanup.run()
        throw e
      }
    })

    afterAll(async () => {
      await cleanup.run()
    })

    it(
      spec.sourceV4 !== null
        ? `connects to the app from its own source address (${spec.sourceV4})`
        : 'connects to the app from 127.0.0.1 (it cannot choose a source address)',
      async () => {
        await appV4.start('false')
        const r = await via(main, cert, V4_CLIENT)
        expect(r.peer).toBe(spec.sourceV4 ?? '127.0.0.1')
      },
    )

    for (const policy of ['exact', '1'] as const) {
      it(`resolves HTTPS clients (127.0.0.x and ::1) to their own address, https and the public host (TRUST_PROXY=${policy === 'exact' ? 'its address/32' : '1'})`, async () => {
        await appV4.start(policy === 'exact' ? exact : '1')
        for (const client of CLIENTS) expectResolved(await via(main, cert, client), client, main)
      })
    }

    it('keeps WebSockets open both ways for 3 s, attributed to each client', async () => {
      await appV4.start(exact)
      const sessions = await Promise.all(
        [V4_CLIENT, V6_CLIENT].map((c) =>
          wsSession({ connect: c.connect, port: main.httpsPort, from: c.from, ca: cert.ca, durationMs: 3000 }).then((s) => ({ c, s })),
        ),
      )
      for (const { c, s } of sessions) {
        expectResolved(s.hello, c, main)
        expect(s.sent).toBeGreaterThanOrEqual(10)
        // Every message came back, in order, attributed to the client that opened the stream.
        expect(s.echoes.map((e) => e.data)).toEqual(Array.from({ length: s.sent }, (_, i) => `msg-${i + 1}`))
        expect(new Set(s.echoes.map((e) => e.ip))).toEqual(new Set([c.from]))
        // The server talked on its own too, for the whole session.
        expect(s.ticks).toBeGreaterThanOrEqual(10)
        expect(s.tickIps).toEqual(new Set([c.from]))
      }
    })

    for (const policy of ['exact', '1'] as const) {
      it(`ignores forged X-Forwarded-For, Forwarded, X-Real-IP, X-Forwarded-Proto and X-Forwarded-Host (TRUST_PROXY=${policy === 'exact' ? 'its address/32' : '1'})`, async () => {
        await appV4.start(policy === 'exact' ? exact : '1')
        for (const client of [V4_CLIENT, V6_CLIENT]) {
          expectResolved(await via(main, cert, client, FORGED_HEADERS), client, main)
        }
      })
    }

    it(`TRUST_PROXY=true (trust every hop, Infram's old reading of "1") ${spec.defaultXff === 'append' ? 'believes a forged X-Forwarded-For' : 'is saved only by the proxy replacing X-Forwarded-For'}`, async () => {
      await appV4.start('true')
      const r = await via(main, cert, V4_CLIENT, { 'x-forwarded-for': '6.6.6.6' })
      if (spec.defaultXff === 'append') {
        // The left-most entry, which the client wrote, is taken as the client.
        expect(r.ip).toBe('6.6.6.6')
        expect(r.received.xForwardedFor).toBe(`6.6.6.6, ${V4_CLIENT.from}`)
      } else {
        expect(r.ip).toBe(V4_CLIENT.from)
        expect(r.received.xForwardedFor).toBe(V4_CLIENT.from)
      }
    })

    it(`redirects HTTP to HTTPS${spec.redirectKeepsPort ? '' : ' (Caddy 2.6 drops a non-443 HTTPS port from its automatic redirect)'}`, async () => {
      await appV4.start(exact)
      for (const address of spec.redirectListens) {
        const from = address === '::1' ? '::1' : V4_CLIENT.from
        const res = await request({ connect: address, port: main.httpPort, from, host: `${PUBLIC_HOST}:${main.httpPort}`, path: '/whoami?x=1' })
        expect([301, 308]).toContain(res.status)
        const location = new URL(res.headers.location ?? 'missing:')
        expect(location.protocol).toBe('https:')
        expect(location.hostname).toBe(PUBLIC_HOST)
        expect(location.pathname + location.search).toBe('/whoami?x=1')
        if (spec.redirectKeepsPort) {
          expect(location.port).toBe(String(main.httpsPort))
          const followed = await whoami({ connect: address, port: main.httpsPort, from, ca: cert.ca, path: '/whoami?x=1' })
          expect(followed.ip).toBe(from)
          expect(followed.protocol).toBe('https')
        } else {
          expect(location.port).toBe('')
        }
      }
    })

    documentedMistakes()

    function documentedMistakes(): void {
      for (const [label, trustProxy] of [
        ['TRUST_PROXY=false behind the proxy', 'false'],
        ['a TRUST_PROXY range that misses the proxy (::1 while it connects over IPv4)', '::1'],
      ] as const) {
        it(`${label}: every client is the proxy, protocol http, anomaly forwarded-by-untrusted-peer`, async () => {
          await appV4.start(trustProxy)
          for (const client of [V4_CLIENT, V4_CLIENT_2, V6_CLIENT]) {
            const r = await via(main, cert, client)
            expect(r.ip).toBe(main.source)
            expect(r.expressIp).toBe(main.source)
            expect(r.trustedHops).toBe(0)
            expect(r.protocol).toBe('http')
            expect(r.anomalies).toEqual(['forwarded-by-untrusted-peer' satisfies AnomalyCode])
          }
        })
      }

      it('a proxy that passes the client\'s X-Forwarded-For through: the client chooses its address; with no header the client is the proxy (missing-forwarded-for)', async () => {
        // TRUST_PROXY=1: a forged entry is believed and nothing can tell; a missing one is a short
        // chain, and the proxy's X-Forwarded-Proto without an X-Forwarded-For gives it away.
        await appV4.start('1')
        let r = await via(passthrough, cert, V4_CLIENT, { 'x-forwarded-for': '6.6.6.6' })
        expect(r.received.xForwardedFor).toBe('6.6.6.6')
        expect(r.ip).toBe('6.6.6.6')
        expect(r.anomalies).toEqual([])
        r = await via(passthrough, cert, V4_CLIENT)
        expect(r.ip).toBe(passthrough.source)
        expect(r.anomalies).toEqual(['missing-forwarded-for', 'short-chain'] satisfies AnomalyCode[])
        // The exact range does not help against a proxy that passes the header on.
        await appV4.start(exact)
        r = await via(passthrough, cert, V4_CLIENT, { 'x-forwarded-for': '6.6.6.6' })
        expect(r.ip).toBe('6.6.6.6')
        expect(r.anomalies).toEqual([])
        r = await via(passthrough, cert, V4_CLIENT)
        expect(r.ip).toBe(passthrough.source)
        expect(r.anomalies).toEqual(['missing-forwarded-for'] satisfies AnomalyCode[])
      })

      it('a proxy that replaces X-Forwarded-For with the client address: right for a single proxy', async () => {
        for (const policy of [exact, '1']) {
          await appV4.start(policy)
          for (const client of [V4_CLIENT, V6_CLIENT]) {
            const r = await via(replace!, cert, client, { 'x-forwarded-for': '6.6.6.6' })
            expect(r.received.xForwardedFor).toBe(client.from)
            expectResolved(r, client, replace!)
          }
        }
      })

      it('a proxy that does not send X-Forwarded-Proto: the client stays right, protocol http, anomaly missing-forwarded-proto', async () => {
        await appV4.start(exact)
        for (const client of [V4_CLIENT, V6_CLIENT]) {
          const r = await via(minimal, cert, client)
          expect(r.received.xForwardedProto).toBeUndefined()
          expect(r.ip).toBe(client.from)
          expect(r.protocol).toBe('http')
          expect(r.host).toBe(publicHost(minimal.httpsPort))
          expect(r.anomalies).toEqual(['missing-forwarded-proto' satisfies AnomalyCode])
        }
      })

      it(
        spec.canOmitForwardedHost
          ? 'a config without the X-Forwarded-Host line passes the client\'s on: the client sets the host, with no anomaly'
          : 'X-Forwarded-Host is set by the proxy itself: a forged one never becomes the host',
        async () => {
          await appV4.start(exact)
          const r = await via(minimal, cert, V4_CLIENT, { 'x-forwarded-host': 'evil.test' })
          expect(r.ip).toBe(V4_CLIENT.from)
          if (spec.canOmitForwardedHost) {
            expect(r.received.xForwardedHost).toBe('evil.test')
            expect(r.host).toBe('evil.test')
          } else {
            expect(r.host).toBe(publicHost(minimal.httpsPort))
          }
          expect(r.anomalies).toEqual(['missing-forwarded-proto' satisfies AnomalyCode])
        },
      )
    }

    it('IPv6 between proxy and app (TRUST_PROXY=1): IPv4 and IPv6 clients resolved, forged headers ignored', async () => {
      await appV6.start('1')
      expect(v6up.source).toBe('::1')
      for (const client of [V4_CLIENT, V6_CLIENT]) expectResolved(await via(v6up, cert, client, FORGED_HEADERS), client, v6up)
    })

    it('IPv6 between proxy and app (TRUST_PROXY=::1): a client on the proxy\'s own address is trusted like the proxy', async () => {
      await appV6.start('::1')
      expectResolved(await via(v6up, cert, V4_CLIENT, FORGED_HEADERS), V4_CLIENT, v6up)
      // ::1 is the only IPv6 loopback address, so this client and the proxy share it: the range
      // cannot tell them apart (reported as all-hops-trusted), and the client's own
      // X-Forwarded-For entries are believed (spec section 6) unless the proxy drops them. Over
      // IPv6 on one host, use a hop count.
      expectResolved(await via(v6up, cert, V6_CLIENT), V6_CLIENT, v6up, ['all-hops-trusted'])
      const forged = await via(v6up, cert, V6_CLIENT, FORGED_HEADERS)
      if (spec.defaultXff === 'append') {
        expect(forged.ip).toBe('7.7.7.7')
        expect(forged.chain).toEqual(['::1', '::1', '7.7.7.7'])
      } else {
        expect(forged.received.xForwardedFor).toBe('::1')
        expect(forged.ip).toBe('::1')
      }
    })
  })
}
