/**
 * One answer for the commonest setup, nginx on the same host as the app: nginx connects from an
 * address of its own (`proxy_bind 127.0.0.9;`) and `TRUST_PROXY=127.0.0.9` names it alone. The
 * address comes from the nginx config the end-to-end tests run; the README, docs/trust-proxy.md,
 * docs/proxies.md, the diagnostic page's fix for `trust-proxy-off` (and `peer-not-trusted`) and
 * `trust-proxy check`'s advice must all give that answer, and none may give another.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { SAME_HOST_SOURCE } from '../src/cli/fixes.js'
import { parseTrustProxy } from '../src/index.js'
import { ensureBuilt, runCli } from './support/cli-run.js'
import { DOC_VALUES, renderForDocs } from './support/proxies.js'
import { ROOT } from './support/repo-copy.js'

const ADDRESS = String(DOC_VALUES.nginx.source)
const BIND = `proxy_bind ${ADDRESS};`
const SETTING = `TRUST_PROXY=${ADDRESS}`
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8')
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

/** The prose of a page under the heading `title`, up to the next heading of the same level or above. */
function section(page: string, title: string): string {
  const text = page.replace(/```[\s\S]*?```/g, '')
  const at = text.indexOf(title)
  expect(at, title).toBeGreaterThanOrEqual(0)
  const level = /^#+/.exec(title)![0].length
  const rest = text.slice(at + title.length)
  const next = new RegExp(`^#{1,${level}} `, 'm').exec(rest)
  return next ? rest.slice(0, next.index) : rest
}

interface Finding {
  code: string
  setting?: string
  fixes?: Record<string, string>
}

beforeAll(ensureBuilt, 180_000)

describe('nginx on the same host', () => {
  it('the tested nginx config binds the address, and the advice uses the same ones', () => {
    expect(ADDRESS).toMatch(/^127\.\d+\.\d+\.\d+$/)
    expect(ADDRESS).not.toBe('127.0.0.1')
    expect(renderForDocs('nginx')).toContain(`        ${BIND}\n`)
    expect(SAME_HOST_SOURCE.nginx).toBe(ADDRESS)
    expect(SAME_HOST_SOURCE.apache).toBe(String(DOC_VALUES.apache.source))
  })

  it("the page's fix for trust-proxy-off gives the docs' answer for nginx, and never `loopback`", () => {
    const r = runCli(['resolve', '--json', '--trust-proxy', 'false', '--remote', '127.0.0.1', '-H', 'X-Forwarded-For: 203.0.113.7'])
    const findings = JSON.parse(r.stdout).findings as Finding[]
    const off = findings.find((f) => f.code === 'trust-proxy-off')!
    expect(off.fixes!.nginx).toContain(BIND)
    expect(off.fixes!.nginx).toContain(SETTING)
    expect(off.fixes!.apache).toContain(`ProxySourceAddress ${SAME_HOST_SOURCE.apache}`)
    // The setting names the peer that connected, exactly: never every process on the host.
    expect(off.setting).toBe('TRUST_PROXY=127.0.0.1')
    for (const text of [off.setting!, ...Object.values(off.fixes!)]) expect(text).not.toMatch(/TRUST_PROXY=loopback|proxy_bind 127\.0\.0\.1\b/)
  })

  it('a peer already bound to the address is trusted by its own address', () => {
    const r = runCli(['resolve', '--json', '--trust-proxy', 'false', '--remote', ADDRESS, '-H', 'X-Forwarded-For: 203.0.113.7'])
    const off = (JSON.parse(r.stdout).findings as Finding[]).find((f) => f.code === 'trust-proxy-off')!
    expect(off.setting).toBe(SETTING)
    const untrusted = runCli(['resolve', '--json', '--trust-proxy', '127.0.0.10', '--remote', ADDRESS, '-H', 'X-Forwarded-For: 203.0.113.7'])
    const f = (JSON.parse(untrusted.stdout).findings as Finding[]).find((x) => x.code === 'peer-not-trusted')!
    expect(f.setting).toBe(`TRUST_PROXY='127.0.0.10, ${ADDRESS}'`)
    expect(f.fixes!.nginx).toContain(BIND)
  })

  it("check's advice gives the same answer", () => {
    const hops = parseTrustProxy('1').warnings.find((w) => w.code === 'hop-count')!
    expect(hops.message).toContain(`\`${BIND.slice(0, -1)}\``)
    expect(hops.message).toContain(ADDRESS)
    const loopback = JSON.parse(runCli(['check', '--json', 'loopback']).stdout) as { meaning: string }
    expect(loopback.meaning).toContain(BIND)
    expect(loopback.meaning).toContain(SETTING)
    const exact = JSON.parse(runCli(['check', '--json', ADDRESS]).stdout) as { meaning: string }
    expect(exact.meaning).not.toContain('proxy_bind')
  })

  it('the README and the docs give the same answer', () => {
    const topics = read('docs/trust-proxy.md')
    const answer = section(topics, '## nginx on the same host')
    expect(answer).toContain(BIND)
    expect(answer).toContain(SETTING)
    const row = topics.split('\n').find((l) => l.startsWith('| nginx on the same host'))!
    expect(row).toContain(`\`${ADDRESS}\``)
    expect(row).toContain(BIND)
    const nginx = section(read('docs/proxies.md'), '## nginx')
    expect(nginx).toContain(SETTING)
    expect(nginx).toContain(BIND)
    const readme = section(read('README.md'), '## The TRUST_PROXY value')
    expect(readme).toContain(BIND)
    expect(readme).toContain(SETTING)
  })

  it('no page gives another answer', () => {
    for (const page of PAGES) {
      for (const line of read(page).split('\n')) {
        if (!/nginx/i.test(line) || !/same host|this host/i.test(line)) continue
        expect(line, `${page}: ${line}`).not.toMatch(/`loopback`|TRUST_PROXY=(loopback|127\.0\.0\.1\b)|proxy_bind 127\.0\.0\.1\b/)
      }
      expect(read(page), page).not.toMatch(/proxy_bind 127\.0\.0\.1\b/)
    }
  })
})
