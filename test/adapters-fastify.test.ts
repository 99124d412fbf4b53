/**
 * The Fastify plugin on Fastify 5, over real loopback sockets. Fastify's own `request.ip`,
 * `request.ips`, `request.protocol` and `request.host` agree with ours for valid input when it is
 * given the same policy (`trustProxy: policy.trust`), hop counts included: Fastify 5.12.1 and
 * later refuse a numeric `trustProxy` (they trust nothing), but accept the policy's predicate.
 */
import { createRequire } from 'node:module'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fastifyClientIp } from '../src/adapters/fastify.js'
import { fastifyReport } from './support/fastify-report.js'
import { canonicalizeIp, parseTrustProxy } from '../src/index.js'
import { PROXY, SCENARIOS, get } from './support/adapters-net.js'

const fastifyVersion = (createRequire(import.meta.url)('fastify/package.json') as { version: string }).version


async function startApp(trustProxy: unknown, policyValue: string): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ trustProxy: trustProxy as any })
  await app.register(fastifyClientIp, { policy: parseTrustProxy(policyValue) })
  app.get('/', async (request) => fastifyReport(request))
  // Registered in a child context: the decorations must still reach it (no encapsulation).
  await app.register(async (child) => {
    child.get('/child', async (request) => fastifyReport(request))
  })
  await app.listen({ port: 0, host: '::' })
  return { app, port: (app.server.address() as { port: number }).port }
}

it('runs on Fastify 5.12.1 or later (the versions that refuse a numeric trustProxy)', () => {
  const [major, minor, patch] = fastifyVersion.split('.').map(Number) as [number, number, number]
  expect(major).toBe(5)
  expect(minor * 1000 + patch).toBeGreaterThanOrEqual(12 * 1000 + 1)
})

for (const [value, scenarios] of Object.entries(SCENARIOS)) {
  describe(`Fastify ${fastifyVersion}, TRUST_PROXY=${JSON.stringify(value)}`, () => {
    let app: FastifyInstance
    let port: number
    beforeAll(async () => {
      ;({ app, port } = await startApp(parseTrustProxy(value).trust, value))
    })
    afterAll(() => app?.close())

    for (const s of scenarios) {
      it(`${s.name} (from ${s.from})`, async () => {
        for (const path of ['/', '/child']) {
          const body = await get({ port, from: s.from, headers: s.headers, path })
          expect(canonicalizeIp(body.peer)).toBe(s.from)
          expect(body.clientIp).toBe(s.expect.ip)
          expect(body.clientInfo.trustedHops).toBe(s.expect.trustedHops)
          expect(body.clientInfo.protocol).toBe(s.expect.protocol)
          expect(body.clientInfo.host).toBe(s.expect.host)
          for (const code of s.expect.anomalies ?? []) expect(body.clientInfo.anomalies).toContain(code)
          if (s.valid) {
            expect(canonicalizeIp(body.fastify.ip)).toBe(body.clientIp)
            // Fastify lists the socket first, like our chain.
            expect(body.fastify.ips.map(canonicalizeIp)).toEqual(body.clientInfo.chain)
            expect(body.fastify.protocol).toBe(body.clientInfo.protocol)
            expect(body.fastify.host).toBe(body.clientInfo.host)
          }
        }
      })
    }
  })
}

describe('a hop count on Fastify 5.12.1+', () => {
  const apps: FastifyInstance[] = []
  afterAll(() => Promise.all(apps.map((a) => a.close())))
  const headers = { 'x-forwarded-for': '6.6.6.6, 198.51.100.4', 'x-forwarded-proto': 'https' }

  it('trustProxy: 1 is refused (Fastify then trusts no proxy)', async () => {
    const { app, port } = await startApp(1, '1')
    apps.push(app)
    const body = await get({ port, from: PROXY, headers })
    expect(canonicalizeIp(body.fastify.ip)).toBe(PROXY)
    expect(body.fastify.protocol).toBe('http')
    // The plugin's own result does not depend on Fastify's setting.
    expect(body.clientIp).toBe('198.51.100.4')
  })

  it('trustProxy: parseTrustProxy("1").trust works, and agrees with the plugin', async () => {
    const { app, port } = await startApp(parseTrustProxy('1').trust, '1')
    apps.push(app)
    const body = await get({ port, from: PROXY, headers })
    expect(body.fastify.ip).toBe('198.51.100.4')
    expect(body.clientIp).toBe('198.51.100.4')
    expect(body.fastify.protocol).toBe('https')
  })
})

describe('fastifyClientIp setup', () => {
  it('is a non-encapsulated plugin with a display name, without fastify-plugin', () => {
    const meta = fastifyClientIp as unknown as Record<symbol, unknown>
    expect(meta[Symbol.for('skip-override')]).toBe(true)
    expect(meta[Symbol.for('fastify.display-name')]).toBe('@infram/trust-proxy')
  })

  it('refuses the raw TRUST_PROXY value when registered', async () => {
    const app = Fastify()
    try {
      await expect(app.register(fastifyClientIp, { policy: '1' as any })).rejects.toThrow(/parseTrustProxy/)
    } finally {
      await app.close()
    }
  })
})
