/**
 * `trust-proxy resolve` through the real binary: spoofing and malformed cases, hop by hop, with
 * the expected clients worked out from the spec (section 2), not from the command's output.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { WalkStep } from '../src/cli/diagnose.js'
import { parseTrustProxy, resolveClient } from '../src/index.js'
import { ensureBuilt, runCliAsync as runCli } from './support/cli-run.js'

beforeAll(ensureBuilt)

interface ResolveJson {
  trustProxy: { kind: string; value: string; warnings: { code: string }[]; meaning: string }
  request: { remote: string | null; tls: boolean; ipHeader: string; headers: Record<string, string> }
  walk: WalkStep[]
  resolved: {
    client: string | null
    peer: string | null
    chain: (string | null)[]
    trustedHops: number
    source: string
    protocol: string
    host: string | null
    anomalies: string[]
  }
  findings: { code: string; severity: string; title: string; detail: string; cause: string; setting?: string; fixes?: Record<string, string> }[]
}

async function resolveJson(trust: string, remote: string, headers: string[] = [], extra: string[] = []): Promise<ResolveJson> {
  const args = ['resolve', '--json', `--trust-proxy=${trust}`, '--remote', remote, ...headers.flatMap((h) => ['-H', h]), ...extra]
  const r = await runCli(args)
  expect(r.code, r.stderr).toBe(0)
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as ResolveJson
}

const roles = (j: ResolveJson) => j.walk.map((s) => `${s.hop}:${s.role}:${s.address ?? s.raw}`)
const codes = (j: ResolveJson) => j.findings.map((f) => f.code)

describe.concurrent('resolve --json: spoofing', () => {
  it('one hop: a forged entry left of the proxy-written one is ignored', async () => {
    const j = await resolveJson('1', '127.0.0.1', ['X-Forwarded-For: 6.6.6.6, 203.0.113.7', 'X-Forwarded-Proto: https', 'Host: infram.example.com'])
    expect(j.resolved).toMatchObject({ client: '203.0.113.7', peer: '127.0.0.1', trustedHops: 1, source: 'x-forwarded-for', protocol: 'https', host: 'infram.example.com' })
    expect(roles(j)).toEqual(['0:proxy:127.0.0.1', '1:client:203.0.113.7', '2:ignored:6.6.6.6'])
    expect(j.walk[0]).toMatchObject({ trusted: true, rule: 'hop-count' })
    expect(j.walk[1]).toMatchObject({ trusted: false, rule: 'beyond-hop-count' })
    expect(j.walk[2]).toMatchObject({ trusted: null, rule: 'not-read' })
    expect(j.resolved.anomalies).toEqual([])
  })

  it('a client that bypasses the proxy cannot choose its IP (ranges)', async () => {
    const j = await resolveJson('loopback', '198.51.100.2', ['X-Forwarded-For: 10.0.0.1', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.example'])
    expect(j.resolved).toMatchObject({ client: '198.51.100.2', trustedHops: 0, source: 'socket', protocol: 'http', host: null })
    expect(j.resolved.anomalies).toContain('forwarded-by-untrusted-peer')
    expect(roles(j)).toEqual(['0:client:198.51.100.2', '1:ignored:10.0.0.1'])
    expect(j.walk[0]).toMatchObject({ trusted: false, rule: 'not-in-ranges' })
    const f = j.findings.find((x) => x.code === 'peer-not-trusted')!
    expect(f.severity).toBe('error')
    expect(f.detail).toContain('198.51.100.2')
    expect(f.setting).toBe("TRUST_PROXY='loopback, 198.51.100.2'")
    expect(Object.keys(f.fixes!)).toEqual(['nginx', 'apache', 'caddy', 'traefik'])
  })

  it('TRUST_PROXY=false behind a proxy: the client is the proxy, and the fix names it', async () => {
    const j = await resolveJson('false', '127.0.0.1', ['X-Forwarded-For: 203.0.113.7'])
    expect(j.resolved.client).toBe('127.0.0.1')
    expect(j.resolved.anomalies).toContain('forwarded-by-untrusted-peer')
    const f = j.findings.find((x) => x.code === 'trust-proxy-off')!
    expect(f.setting).toBe('TRUST_PROXY=127.0.0.1')
    expect(codes(j)).not.toContain('peer-not-trusted')
    expect(j.walk[0]).toMatchObject({ role: 'client', trusted: false, rule: 'trust-none' })
  })

  it('trust-all takes the left-most entry, which the client wrote', async () => {
    const j = await resolveJson('true', '127.0.0.1', ['X-Forwarded-For: 6.6.6.6, 203.0.113.7'])
    expect(j.resolved.client).toBe('6.6.6.6')
    expect(j.trustProxy.warnings.map((w) => w.code)).toContain('trust-all')
    expect(roles(j)).toEqual(['0:proxy:127.0.0.1', '1:proxy:203.0.113.7', '2:client:6.6.6.6'])
    expect(j.walk[2]).toMatchObject({ trusted: true, rule: 'leftmost' })
  })

  it('a range list names the entry that matched each hop', async () => {
    const j = await resolveJson('127.0.0.1, 10.0.0.0/8', '127.0.0.1', ['X-Forwarded-For: 6.6.6.6, 203.0.113.7, 10.1.2.3'])
    expect(j.resolved.client).toBe('203.0.113.7')
    expect(j.walk.map((s) => s.matched ?? null)).toEqual(['127.0.0.1', '10.0.0.0/8', null, null])
    expect(j.walk[2]).toMatchObject({ role: 'client', trusted: false, rule: 'not-in-ranges' })
  })

  it('an IPv4-mapped peer matches IPv4 ranges and is shown canonical', async () => {
    const j = await resolveJson('10.0.0.0/8', '::ffff:10.0.0.5', ['X-Forwarded-For: 203.0.113.7'])
    expect(j.walk[0]).toMatchObject({ raw: '::ffff:10.0.0.5', address: '10.0.0.5', trusted: true, matched: '10.0.0.0/8' })
    expect(j.resolved.client).toBe('203.0.113.7')
  })

  it('an IPv4-mapped range does not cover all of IPv4 (::/0 is IPv6 only)', async () => {
    const j = await resolveJson('::/0', '203.0.113.9', ['X-Forwarded-For: 6.6.6.6'])
    expect(j.resolved.client).toBe('203.0.113.9')
    expect(codes(j)).toContain('peer-not-trusted')
  })

  it('a hop count with fewer entries than hops reports a short chain', async () => {
    const j = await resolveJson('2', '127.0.0.1', ['X-Forwarded-For: 6.6.6.6'])
    expect(j.resolved.client).toBe('6.6.6.6')
    expect(j.resolved.anomalies).toContain('short-chain')
    expect(codes(j)).toContain('short-chain')
    expect(j.walk[1]).toMatchObject({ role: 'client', trusted: true, rule: 'leftmost' })
  })

  it('proto and host from an untrusted peer are ignored; from a trusted one the right-most counts', async () => {
    const untrusted = await resolveJson('127.0.0.9', '127.0.0.20', ['X-Forwarded-Proto: https', 'Host: a.example'])
    expect(untrusted.resolved).toMatchObject({ protocol: 'http', host: 'a.example' })
    expect(untrusted.resolved.anomalies).toContain('forwarded-by-untrusted-peer')
    const trusted = await resolveJson('127.0.0.9', '127.0.0.9', ['X-Forwarded-For: 203.0.113.7', 'X-Forwarded-Proto: http, https', 'X-Forwarded-Host: evil.example, b.example'])
    expect(trusted.resolved).toMatchObject({ client: '203.0.113.7', protocol: 'https', host: 'b.example' })
    const tls = await resolveJson('false', '127.0.0.9', [], ['--tls'])
    expect(tls.resolved.protocol).toBe('https')
    expect(tls.request.tls).toBe(true)
  })

  it('a missing X-Forwarded-Proto from a trusted proxy is a finding with fixes for every proxy', async () => {
    const j = await resolveJson('loopback', '127.0.0.1', ['X-Forwarded-For: 203.0.113.7'])
    const f = j.findings.find((x) => x.code === 'missing-forwarded-proto')!
    expect(f.fixes!.nginx).toContain('proxy_set_header X-Forwarded-Proto $scheme;')
    expect(f.fixes!.apache).toContain('RequestHeader set X-Forwarded-Proto "https"')
    expect(f.fixes!.caddy).toContain('reverse_proxy')
    expect(f.fixes!.traefik).toContain('X-Forwarded-Proto')
  })

  it('repeated X-Forwarded-For lines are joined in order, as Node does', async () => {
    const j = await resolveJson('loopback', '127.0.0.1', ['X-Forwarded-For: 6.6.6.6', 'X-Forwarded-For: 203.0.113.7, 127.0.0.2'])
    expect(j.request.headers['x-forwarded-for']).toBe('6.6.6.6, 203.0.113.7, 127.0.0.2')
    expect(j.resolved.client).toBe('203.0.113.7')
  })

  it('a Unix socket peer is trusted only when the list names unix', async () => {
    const yes = await resolveJson('unix', 'unix', ['X-Forwarded-For: 203.0.113.7'])
    expect(yes.resolved).toMatchObject({ client: '203.0.113.7', peer: null })
    expect(yes.walk[0]).toMatchObject({ raw: null, address: null, trusted: true, matched: 'unix' })
    const no = await resolveJson('loopback', 'unix', ['X-Forwarded-For: 203.0.113.7'])
    expect(no.resolved.client).toBeNull()
    expect(no.walk[0]).toMatchObject({ trusted: false, role: 'client' })
  })
})

describe.concurrent('resolve --json: malformed input', () => {
  it.each([
    ['unknown'],
    ['_hidden'],
    ['garbage'],
    ['1.2.3.4:99999'],
    ['::ffff:'],
    ['127.1'],
    ['010.0.0.1'],
  ])('%j stops the walk at the last verified hop', async (bad) => {
    const j = await resolveJson('loopback', '127.0.0.1', [`X-Forwarded-For: 203.0.113.7, ${bad}, 127.0.0.2`])
    expect(j.resolved.client).toBe('127.0.0.2')
    expect(j.resolved.anomalies).toContain('malformed-entry')
    expect(roles(j)).toEqual(['0:proxy:127.0.0.1', `1:client:127.0.0.2`, `2:malformed:${bad}`, '3:ignored:203.0.113.7'])
    expect(j.walk[1]).toMatchObject({ trusted: true, rule: 'last-verified' })
    const f = j.findings.find((x) => x.code === 'malformed-entry')!
    expect(f.detail).toContain(JSON.stringify(bad))
    expect(f.fixes!.nginx).toContain('$proxy_add_x_forwarded_for')
  })

  it('an empty item is malformed too', async () => {
    const j = await resolveJson('loopback', '127.0.0.1', ['X-Forwarded-For: 203.0.113.7,,127.0.0.2'])
    expect(j.resolved.client).toBe('127.0.0.2')
    expect(j.walk[2]).toMatchObject({ role: 'malformed', raw: '' })
  })

  it('a malformed right-most entry leaves the peer as the client', async () => {
    const j = await resolveJson('1', '127.0.0.1', ['X-Forwarded-For: 203.0.113.7, <script>'])
    expect(j.resolved.client).toBe('127.0.0.1')
    expect(roles(j)).toEqual(['0:client:127.0.0.1', '1:malformed:<script>', '2:ignored:203.0.113.7'])
  })

  it('a socket address that is not an address gives no client', async () => {
    const j = await resolveJson('1', 'not-an-ip', ['X-Forwarded-For: 203.0.113.7'])
    expect(j.resolved.client).toBeNull()
    expect(j.resolved.anomalies).toContain('malformed-peer')
    expect(j.walk[0]).toMatchObject({ role: 'malformed', raw: 'not-an-ip' })
  })

  it('an invalid X-Forwarded-Proto or Host is ignored and reported', async () => {
    const j = await resolveJson('loopback', '127.0.0.1', ['X-Forwarded-For: 203.0.113.7', 'X-Forwarded-Proto: javascript', 'X-Forwarded-Host: a.example/path', 'Host: b.example'])
    expect(j.resolved).toMatchObject({ protocol: 'http', host: 'b.example' })
    expect(codes(j)).toEqual(expect.arrayContaining(['invalid-forwarded-proto', 'invalid-forwarded-host']))
    expect(j.findings.find((f) => f.code === 'invalid-forwarded-proto')!.detail).toContain('"javascript"')
  })

  it('RFC 7239 Forwarded: quoted IPv6 with a port, and unknown is malformed', async () => {
    const j = await resolveJson('loopback', '::1', ['Forwarded: for=unknown, for="[2001:db8::1]:443", for=127.0.0.3;proto=https'], ['--ip-header', 'forwarded'])
    expect(j.resolved).toMatchObject({ client: '2001:db8::1', source: 'forwarded', protocol: 'https' })
    expect(roles(j)).toEqual(['0:proxy:::1', '1:proxy:127.0.0.3', '2:client:2001:db8::1', '3:ignored:unknown'])
  })

  it('a repeated single-IP header is malformed', async () => {
    const j = await resolveJson('loopback', '127.0.0.1', ['X-Real-IP: 203.0.113.7', 'X-Real-IP: 6.6.6.6'], ['--ip-header', 'x-real-ip'])
    expect(j.resolved.client).toBe('127.0.0.1')
    expect(j.resolved.anomalies).toContain('malformed-entry')
  })

  it('never prints raw control characters from a header', async () => {
    const r = await runCli(['resolve', '--trust-proxy', '1', '--remote', '127.0.0.1', '-H', 'X-Forwarded-For: \u001b[2J, 1.2.3.4'])
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('\u001b[2J')
    expect(r.stdout).toMatch(/\\(x1b|u001b)\[2J/)
  })
})

describe.concurrent('resolve agrees with the library', () => {
  const cases: [string, string, Record<string, string>][] = [
    ['1', '127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' }],
    ['2', '::ffff:127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.0.0.1' }],
    ['loopback, 10.0.0.0/8', '10.9.9.9', { 'x-forwarded-for': '[2001:db8::5]:443, 127.0.0.1', 'x-forwarded-proto': 'https' }],
    ['private', '192.168.1.1', { 'x-forwarded-for': 'unknown, 100.64.0.1', host: 'h.example:8443' }],
    ['true', '127.0.0.1', { 'x-forwarded-for': ' 1.2.3.4 ,\t5.6.7.8 ' }],
    ['fe80::%eth0/64', 'fe80::1%eth0', { 'x-forwarded-for': 'fe80::2%eth1, fe80::3%eth0' }],
  ]
  it.each(cases)('TRUST_PROXY=%j from %j', async (trust, remote, headers) => {
    const j = await resolveJson(trust, remote, Object.entries(headers).map(([k, v]) => `${k}: ${v}`))
    const lib = resolveClient(parseTrustProxy(trust), { remoteAddress: remote, headers })
    expect(j.resolved).toEqual({
      client: lib.ip ?? null,
      peer: lib.peer ?? null,
      chain: lib.chain.map((c) => c ?? null),
      trustedHops: lib.trustedHops,
      source: lib.source,
      protocol: lib.protocol,
      host: lib.host ?? null,
      anomalies: lib.anomalies,
    })
  })
})

describe.concurrent('resolve: text output and usage', () => {
  it('prints the walk hop by hop with the reasons', async () => {
    const r = await runCli(['resolve', '--trust-proxy', 'loopback', '--remote', '127.0.0.1', '-H', 'X-Forwarded-For: 6.6.6.6, 203.0.113.7'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/hop 0\s+proxy\s+127\.0\.0\.1\s+socket peer\n\s+trusted: in loopback/)
    expect(r.stdout).toMatch(/hop 1\s+client\s+203\.0\.113\.7\s+X-Forwarded-For\n\s+not trusted: in none of the trusted ranges/)
    expect(r.stdout).toMatch(/hop 2\s+ignored\s+6\.6\.6\.6/)
    expect(r.stdout).toMatch(/^client\s+203\.0\.113\.7/m)
    expect(r.stdout).toMatch(/^protocol\s+http$/m)
    expect(r.stdout).toMatch(/^anomalies\s+missing-forwarded-proto$/m)
    expect(r.stdout).toContain('warning [missing-forwarded-proto]')
    expect(r.stdout).toContain('nginx:')
  })

  it('uses $TRUST_PROXY when --trust-proxy is absent', async () => {
    const r = await runCli(['resolve', '--json', '--remote', '127.0.0.1', '-H', 'X-Forwarded-For: 203.0.113.7'], { TRUST_PROXY: '1' })
    expect(JSON.parse(r.stdout).resolved.client).toBe('203.0.113.7')
  })

  it('an invalid TRUST_PROXY exits 1 with the message', async () => {
    const r = await runCli(['resolve', '--trust-proxy', '127.1', '--remote', '127.0.0.1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Invalid TRUST_PROXY entry "127.1"')
    const j = await runCli(['resolve', '--json', '--trust-proxy', '127.1', '--remote', '127.0.0.1'])
    expect(j.code).toBe(1)
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: false, error: { entry: '127.1', reason: 'ipv4-shorthand' } })
  })

  it.each([
    [['resolve']],
    [['resolve', '--remote']],
    [['resolve', '--remote', '127.0.0.1', '-H', 'no colon']],
    [['resolve', '--remote', '127.0.0.1', '-H', 'bad name: x']],
    [['resolve', '--remote', '127.0.0.1', '--ip-header', 'host']],
    [['resolve', '--remote', '127.0.0.1', 'extra']],
    [['resolve', '--remote', '127.0.0.1', '--nope']],
  ])('%j is a usage error', async (args) => {
    const r = await runCli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('trust-proxy resolve')
  })
})

describe('resolve: why an entry is malformed, from the core', () => {
  it.each([
    ['_hidden', 'obfuscated', 'an RFC 7239 obfuscated identifier'],
    ['unknown', 'unknown', 'the RFC 7239 word "unknown"'],
    ['garbage', 'not-an-address', 'not an IP address (with an optional port)'],
  ])('%j: malformed %s, said in words', async (bad, code, words) => {
    const j = await resolveJson('loopback', '127.0.0.1', [`X-Forwarded-For: 203.0.113.7, ${bad}, 127.0.0.2`])
    expect(j.walk[2]).toMatchObject({ role: 'malformed', raw: bad, malformed: code })
    expect(j.walk[2]!.reason.startsWith(words)).toBe(true)
    expect(j.walk[2]!.reason).toMatch(/: the walk stops before it$/)
  })

  it('a Forwarded element without for= is shown whole', async () => {
    const j = await resolveJson('loopback', '127.0.0.1', ['Forwarded: for=203.0.113.7, by=127.0.0.3;proto=https'], ['--ip-header', 'forwarded'])
    expect(j.walk[1]).toMatchObject({ role: 'malformed', raw: 'by=127.0.0.3;proto=https', malformed: 'no-for' })
  })
})
