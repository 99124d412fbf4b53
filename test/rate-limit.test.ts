/**
 * Rate limiting that holds: `rateLimitKey` against express-rate-limit 8's own `ipKeyGenerator`
 * (differential, generated addresses), and the key generators with the real express-rate-limit
 * and @fastify/rate-limit on real servers, over loopback from chosen source addresses
 * (127.0.0.9 plays the proxy). Also: which of express-rate-limit's own validation messages appear
 * for which `trust proxy` value, and which of ours.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fastifyRateLimit from '@fastify/rate-limit'
import express from 'express'
import { ipKeyGenerator, rateLimit } from 'express-rate-limit'
import fc from 'fast-check'
import fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { NO_ADDRESS_KEY, canonicalizeIp, parseTrustProxy, rateLimitKey } from '../src/index.js'
import { clientIp, expressTrust, rateLimitKeyGenerator } from '../src/adapters/express.js'
import { fastifyClientIp, fastifyRateLimitKey } from '../src/adapters/fastify.js'
import { ipv4, ipv6, ipv6Groups, mapped } from './support/arbitraries.js'

const PROXY = '127.0.0.9'

describe('rateLimitKey', () => {
  it.each([
    ['192.0.2.1', undefined, '192.0.2.1'],
    ['::ffff:192.0.2.1', undefined, '192.0.2.1'],
    ['::FFFF:c000:201', undefined, '192.0.2.1'],
    ['2001:db8:0:1ff:abcd::1', undefined, '2001:db8:0:100::/56'],
    ['2001:DB8::1', 64, '2001:db8::/64'],
    ['2001:db8:1:2:3:4:5:6', 48, '2001:db8:1::/48'],
    ['2001:db8:1:2:3:4:5:6', false, '2001:db8:1:2:3:4:5:6'],
    ['2001:db8:1:2:3:4:5:6', 128, '2001:db8:1:2:3:4:5:6'],
    ['fe80::1%eth0', 64, 'fe80::/64'],
    ['::1', undefined, '::/56'],
    [' 10.0.0.1 ', undefined, '10.0.0.1'],
    ['1.2.3.4:80', undefined, '1.2.3.4'],
    ['[2001:db8::1]:443', 64, '2001:db8::/64'],
  ] as const)('%s with ipv6Subnet %s is %s', (ip, ipv6Subnet, key) => {
    expect(rateLimitKey(ip, ipv6Subnet === undefined ? undefined : { ipv6Subnet })).toBe(key)
  })

  it.each([[undefined], [null], [''], ['unknown'], ['127.1'], ['::'], [42 as unknown as string], ['0.0.0.0']])(
    '%s is the shared no-address bucket',
    (ip) => {
      expect(rateLimitKey(ip)).toBe(NO_ADDRESS_KEY)
    },
  )

  it.each([[-1], [129], [1.5], ['56' as unknown as number], [true as unknown as number]])('ipv6Subnet %s is refused', (s) => {
    expect(() => rateLimitKey('::1', { ipv6Subnet: s })).toThrow(TypeError)
  })

  const subnet = fc.oneof(fc.integer({ min: 32, max: 64 }), fc.constant(undefined))
  it('equals ipKeyGenerator on canonical addresses, for every subnet express-rate-limit accepts', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6, mapped), subnet, (text, s) => {
        const canonical = canonicalizeIp(text)!
        expect(rateLimitKey(text, { ipv6Subnet: s })).toBe(ipKeyGenerator(canonical, s))
      }),
      { numRuns: 3000 },
    )
  })

  it('equals ipKeyGenerator on the text forms Node and proxies write (any case, any compression)', () => {
    // The deprecated IPv4-compatible form (::a.b.c.d) is left out: express-rate-limit reads it as
    // IPv4 because of how it is written, while this library reads the address (::a0b:c0d).
    const notCompat = (t: string) => !/^(0*:)*:?[0-9.]+$/.test(t) && !/^::(ffff:)?[\d.]+$/i.test(t.replace(/^(0+:){5}/, '::'))
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6.filter(notCompat), mapped), subnet, (text, s) => {
        expect(rateLimitKey(text, { ipv6Subnet: s })).toBe(ipKeyGenerator(text, s))
      }),
      { numRuns: 3000 },
    )
  })

  it('two addresses share a key exactly when they share the subnet', () => {
    fc.assert(
      fc.property(ipv6Groups, ipv6Groups, fc.integer({ min: 0, max: 128 }), (a, b, s) => {
        const text = (g: number[]) => g.map((x) => x.toString(16)).join(':')
        const same = a.every((x, i) => {
          const bits = Math.max(0, Math.min(16, s - i * 16))
          const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff
          return (x & mask) === (b[i]! & mask)
        })
        const ka = rateLimitKey(text(a), { ipv6Subnet: s })
        const kb = rateLimitKey(text(b), { ipv6Subnet: s })
        // Mapped addresses fold to IPv4 and are compared as such.
        if (ka.includes('.') || kb.includes('.')) return
        expect(ka === kb).toBe(same)
      }),
      { numRuns: 2000 },
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Real servers

type Closer = () => Promise<void>
const closers: Closer[] = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

function listenHttp(server: http.Server, where: string | { host: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const done = () => resolve(typeof server.address() === 'object' ? (server.address() as { port: number }).port : 0)
    if (typeof where === 'string') server.listen(where, done)
    else server.listen(0, where.host, done)
    closers.push(
      () =>
        new Promise((r) => {
          server.closeAllConnections()
          server.close(() => r())
        }),
    )
  })
}

interface Target {
  port?: number
  socketPath?: string
}
function post(target: Target, from: string | undefined, xff?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...(target.socketPath
          ? { socketPath: target.socketPath }
          : { host: from!.includes(':') ? '::1' : '127.0.0.1', port: target.port, localAddress: from }),
        method: 'POST',
        path: '/limited',
        agent: false,
        headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

async function statuses(n: number, send: (i: number) => Promise<{ status: number }>): Promise<number[]> {
  const out: number[] = []
  for (let i = 1; i <= n; i++) out.push((await send(i)).status)
  return out
}
const tenThenRefused = [...Array(10).fill(200), 429]

interface Logged {
  erl: string[]
  ours: string[]
}

function expressApp(opts: { trust?: unknown; keyGenerator?: (req: any) => string; middleware?: boolean; policyText?: string }, logged: Logged) {
  const policy = parseTrustProxy(opts.policyText ?? '127.0.0.9/32')
  const app = express()
  if (opts.trust !== undefined) app.set('trust proxy', opts.trust)
  if (opts.middleware) app.use(clientIp(policy))
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: 10,
      ...(opts.keyGenerator ? { keyGenerator: opts.keyGenerator } : {}),
      logger: { error: (e: any) => void logged.erl.push(e.code ?? e.message), warn: (e: any) => void logged.erl.push(e.code ?? e.message) },
    }),
  )
  app.post('/limited', (req, res) => res.json({ key: (req as any).rateLimit?.key }))
  return { app, policy }
}

describe('express-rate-limit 8 with rateLimitKeyGenerator, on a real server', () => {
  const logged = (): Logged => ({ erl: [], ours: [] })

  it.each([
    ['the policy alone (no trust proxy setting)', undefined, false],
    ['with the clientIp middleware', undefined, true],
    ["with Express's trust proxy set too", 'trust', false],
  ])('%s', async (_name, trust, middleware) => {
    const log = logged()
    const policy = parseTrustProxy('127.0.0.9/32')
    const keyGenerator = rateLimitKeyGenerator(policy, { warn: (m) => log.ours.push(m) })
    const { app } = expressApp({ trust: trust ? expressTrust(policy) : undefined, keyGenerator, middleware }, log)
    const port = await listenHttp(http.createServer(app), { host: '::' })
    // One client rotating forged left-hand entries cannot escape its limit.
    expect(await statuses(11, (i) => post({ port }, PROXY, `10.1.1.${i}, 203.0.113.10`))).toEqual(tenThenRefused)
    // Two clients behind the same trusted proxy have separate buckets.
    expect((await post({ port }, PROXY, '203.0.113.11')).status).toBe(200)
    // A direct client rotating forged headers is keyed on its own address.
    expect(await statuses(11, (i) => post({ port }, '127.0.0.5', `10.2.2.${i}`))).toEqual(tenThenRefused)
    // An IPv6 client rotating inside its /64 is one bucket.
    expect(await statuses(11, (i) => post({ port }, PROXY, `2001:db8:5:6::${i.toString(16)}`))).toEqual(tenThenRefused)
    expect(JSON.parse((await post({ port }, PROXY, '2001:db8:6:7::1')).body).key).toBe('2001:db8:6::/56')
    expect(log.erl).toEqual([]) // no ERR_ERL_KEY_GEN_IPV6, no ERR_ERL_UNDEFINED_IP_ADDRESS
    expect(log.ours).toEqual([])
  })

  it('a request with no address (a Unix socket peer) is limited, not exempt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-rl-'))
    closers.push(async () => rmSync(dir, { recursive: true, force: true }))
    const log = logged()
    const { app } = expressApp({ keyGenerator: rateLimitKeyGenerator(parseTrustProxy('127.0.0.9/32')) }, log)
    const socketPath = join(dir, 'app.sock')
    await listenHttp(http.createServer(app), socketPath)
    expect(JSON.parse((await post({ socketPath }, undefined)).body).key).toBe(NO_ADDRESS_KEY)
    expect(await statuses(10, (i) => post({ socketPath }, undefined, `10.3.3.${i}`))).toEqual([...Array(9).fill(200), 429])
    expect(log.erl).toEqual([])
  })

  it("the natural `(req) => req.clientIp` loses IPv6 grouping; rateLimitKeyGenerator keeps it", async () => {
    const log = logged()
    const policy = parseTrustProxy('127.0.0.9/32')
    const natural = expressApp({ middleware: true, keyGenerator: (req) => req.clientIp }, log)
    const port = await listenHttp(http.createServer(natural.app), { host: '127.0.0.1' })
    // 12 addresses inside one /64 all pass a limit of 10: the flaw the generator fixes.
    expect(await statuses(12, (i) => post({ port }, PROXY, `2001:db8:9:9::${i.toString(16)}`))).toEqual(Array(12).fill(200))
    // ...and express-rate-limit's ERR_ERL_KEY_GEN_IPV6 check (it looks for "req.ip" in the source) is silent.
    expect(log.erl).toEqual([])
    const ours = expressApp({ middleware: true, keyGenerator: rateLimitKeyGenerator(policy) }, log)
    const port2 = await listenHttp(http.createServer(ours.app), { host: '127.0.0.1' })
    expect(await statuses(12, (i) => post({ port: port2 }, PROXY, `2001:db8:9:9::${i.toString(16)}`))).toEqual([...tenThenRefused, 429])
  })
})

describe("which validation messages appear for which value (the real express-rate-limit's, and ours)", () => {
  async function run(value: string, setup: 'policy.trust' | 'expressTrust' | 'keyGenerator'): Promise<Logged> {
    const log: Logged = { erl: [], ours: [] }
    const policy = parseTrustProxy(value)
    const opts =
      setup === 'keyGenerator'
        ? { keyGenerator: rateLimitKeyGenerator(policy, { warn: (_m: string, code: string) => log.ours.push(code) }) }
        : { trust: setup === 'policy.trust' ? policy.trust : expressTrust(policy) }
    const { app } = expressApp({ ...opts, policyText: value }, log)
    const port = await listenHttp(http.createServer(app), { host: '127.0.0.1' })
    await post({ port }, PROXY, '203.0.113.1')
    await post({ port }, PROXY, '203.0.113.2')
    return log
  }
  const UNEXPECTED = 'ERR_ERL_UNEXPECTED_X_FORWARDED_FOR'
  const PERMISSIVE = 'ERR_ERL_PERMISSIVE_TRUST_PROXY'

  it.each([
    // value, how, express-rate-limit's messages, ours
    ['false', 'policy.trust', [], []],
    ['false', 'expressTrust', [UNEXPECTED], []],
    ['false', 'keyGenerator', [], ['TRUST_PROXY_RATE_LIMIT_UNEXPECTED_FORWARDED']],
    ['true', 'policy.trust', [], []],
    ['true', 'expressTrust', [PERMISSIVE], []],
    ['true', 'keyGenerator', [], ['TRUST_PROXY_RATE_LIMIT_TRUST_ALL']],
    ['1', 'expressTrust', [], []],
    ['1', 'keyGenerator', [], []],
    ['loopback', 'expressTrust', [], []],
    ['loopback', 'keyGenerator', [], []],
  ] as const)('TRUST_PROXY=%s via %s', async (value, how, erl, ours) => {
    const log = await run(value, how)
    expect(log.erl).toEqual(erl)
    expect(log.ours).toEqual(ours)
  })

  it('expressTrust gives Express literal false/true, the hop count, or the trust function', () => {
    expect(expressTrust(parseTrustProxy(''))).toBe(false)
    expect(expressTrust(parseTrustProxy('yes'))).toBe(true)
    expect(expressTrust(parseTrustProxy('3'))).toBe(3)
    const p = parseTrustProxy('10.0.0.0/8')
    expect(expressTrust(p)).toBe(p.trust)
    expect(() => expressTrust('1' as never)).toThrow(TypeError)
  })
})

describe('@fastify/rate-limit with fastifyRateLimitKey, on a real server', () => {
  async function start(options: { plugin: boolean; path?: string }) {
    const policy = parseTrustProxy('127.0.0.9/32')
    const app = fastify({ trustProxy: policy.trust })
    if (options.plugin) await app.register(fastifyClientIp, { policy })
    await app.register(fastifyRateLimit, { max: 10, timeWindow: 60_000, keyGenerator: fastifyRateLimitKey(policy) })
    app.post('/limited', async (request) => ({ key: fastifyRateLimitKey(policy)(request as never) }))
    await (options.path ? app.listen({ path: options.path }) : app.listen({ host: '::', port: 0 }))
    closers.push(() => app.close())
    return options.path ? {} : { port: (app.server.address() as { port: number }).port }
  }

  it.each([[true], [false]])('with the plugin registered: %s', async (plugin) => {
    const { port } = await start({ plugin })
    expect(await statuses(11, (i) => post({ port }, PROXY, `10.1.1.${i}, 203.0.113.10`))).toEqual(tenThenRefused)
    expect((await post({ port }, PROXY, '203.0.113.11')).status).toBe(200)
    expect(await statuses(11, (i) => post({ port }, '127.0.0.5', `10.2.2.${i}`))).toEqual(tenThenRefused)
    expect(await statuses(11, (i) => post({ port }, PROXY, `2001:db8:5:6::${i.toString(16)}`))).toEqual(tenThenRefused)
    expect(JSON.parse((await post({ port }, PROXY, '::ffff:203.0.113.12')).body).key).toBe('203.0.113.12')
  })

  it('a request with no address (a Unix socket peer) is limited, not exempt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trust-proxy-frl-'))
    closers.push(async () => rmSync(dir, { recursive: true, force: true }))
    const socketPath = join(dir, 'app.sock')
    await start({ plugin: true, path: socketPath })
    expect(await statuses(11, (i) => post({ socketPath }, undefined, `10.3.3.${i}`))).toEqual(tenThenRefused)
  })

  it('never throws for a hostile or missing request', () => {
    const key = fastifyRateLimitKey(parseTrustProxy('1'))
    expect(key(undefined as never)).toBe(NO_ADDRESS_KEY)
    // A malformed entry stops the walk at the last verified hop: the peer.
    expect(key({ raw: { headers: { 'x-forwarded-for': ['x', 'y'] }, socket: { remoteAddress: '10.0.0.1' } } } as never)).toBe('10.0.0.1')
    expect(key({ raw: { headers: {}, socket: { remoteAddress: { toString: null } } } } as never)).toBe(NO_ADDRESS_KEY)
    const ekey = rateLimitKeyGenerator(parseTrustProxy('1'))
    expect(ekey(undefined as never)).toBe(NO_ADDRESS_KEY)
    expect(ekey({ headers: { 'x-forwarded-for': '6.6.6.6' }, socket: { remoteAddress: '10.0.0.1' } })).toBe('6.6.6.6')
  })
})
