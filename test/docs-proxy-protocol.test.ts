/**
 * docs/proxy-protocol.md stays true: its program is examples/proxy-protocol/server.mjs byte for
 * byte and does what the page says; its HAProxy and nginx configs are the templates the
 * end-to-end tests run (test/proxies-proxy-protocol.test.ts), rendered with the page's values;
 * its audit record is what auditFields produces.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { auditFields, decodeProxyHeader, parseTrustProxy, resolveClient } from '../src/index.js'
import { ROOT } from './support/cli-run.js'
import { renderSenderForDocs, SENDER_TEMPLATES, type Sender } from './support/proxy-protocol-configs.js'
import { encodeV1 } from './support/proxy-header.js'
import { BALANCER, exchange, GET, jsonBody } from './support/proxy-protocol-net.js'

const PAGE = readFileSync(join(ROOT, 'docs/proxy-protocol.md'), 'utf8')

function blockAfter(marker: string): string | undefined {
  const at = PAGE.indexOf(marker)
  if (at < 0) return undefined
  return /^```[a-z]*\n([\s\S]*?)^```/m.exec(PAGE.slice(at + marker.length + 1))?.[1]
}

describe('docs/proxy-protocol.md', () => {
  it('shows examples/proxy-protocol/server.mjs as it is', () => {
    const blocks = [...PAGE.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)]
    expect(blocks.map((m) => m[1])).toEqual(['examples/proxy-protocol/server.mjs'])
    for (const [, path, code] of blocks) expect(readFileSync(join(ROOT, path!), 'utf8')).toBe(code)
  })

  for (const sender of Object.keys(SENDER_TEMPLATES) as Sender[]) {
    it(`shows the ${sender} config the tests run`, () => {
      expect(blockAfter(`<!-- rendered from test/proxies/templates/${SENDER_TEMPLATES[sender]} -->`)).toBe(renderSenderForDocs(sender))
    })
  }

  it('shows the audit record auditFields gives for a PROXY connection', () => {
    const header = decodeProxyHeader(Buffer.from(encodeV1('203.0.113.7', '10.0.0.1')))
    if (header.kind !== 'header') throw new Error('no header')
    const info = resolveClient(parseTrustProxy('127.0.0.9/32'), {
      remoteAddress: '127.0.0.9',
      headers: { host: 'infram.example' },
      encrypted: true,
      proxyProtocol: { loadBalancer: '127.0.0.9', header: header.header, balancerIsHop: true },
    })
    expect(blockAfter('and `client_ip_source` is `proxy-protocol`:')).toBe(JSON.stringify(auditFields(info)) + '\n')
  })
})

describe('examples/proxy-protocol/server.mjs', () => {
  let child: ChildProcess | undefined
  afterEach(() => {
    child?.kill()
    child = undefined
  })

  it('logs the PROXY source as the client and the balancer as the peer, and refuses a direct client', async () => {
    child = spawn(process.execPath, ['examples/proxy-protocol/server.mjs'], {
      cwd: ROOT,
      env: { ...process.env, TRUST_PROXY: `${BALANCER}/32`, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d) => (out += d))
    child.stderr!.on('data', (d) => (err += d))
    const until = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 20))
      if (!pred()) throw new Error(`timed out waiting for ${what}: ${out} ${err}`)
    }
    await until(() => /listening on port \d+/.test(err), 'listening')
    const port = Number(/listening on port (\d+)/.exec(err)![1])

    const r = jsonBody((await exchange(port, BALANCER, [encodeV1('203.0.113.7', '10.0.0.1'), GET('/', 'X-Forwarded-For: 6.6.6.6\r\n')])).text)
    expect(r).toEqual({ ip: '203.0.113.7' })
    await until(() => out.includes('"event":"visit"'), 'the audit line')
    expect(JSON.parse(out.trim().split('\n')[0]!)).toMatchObject({
      event: 'visit',
      client_ip: '203.0.113.7',
      peer_ip: BALANCER,
      client_ip_source: 'proxy-protocol',
      proxy_source_ip: '203.0.113.7',
    })

    expect((await exchange(port, '127.0.0.23', [GET()])).refused).toBe(true)
    await until(() => err.includes('refused a connection from 127.0.0.23: untrusted-peer'), 'the refusal')
    expect(err.match(/refused a connection/g)).toHaveLength(1)
  })
})
