/**
 * The diagnostic page is three real files (src/cli/page/index.html, page.css, page.js) bundled
 * as text: the served page carries them byte for byte, every slot of the HTML is filled, and the
 * script is valid JavaScript. (test/cli-browser.test.ts proves the page works in Chromium.)
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, type ServeProcess, ensureBuilt, startServe } from './support/cli-run.js'

const PAGE = join(ROOT, 'src', 'cli', 'page')
const file = (name: string) => readFileSync(join(PAGE, name), 'utf8')

function getPage(port: number, accept = 'text/html'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Accept: accept }, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the page files', () => {
  let s: ServeProcess
  let page: string
  beforeAll(async () => {
    await ensureBuilt()
    s = await startServe(['--trust-proxy', '127.0.0.9'])
    page = await getPage(s.port)
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('page.css and page.js are served byte for byte, inline under the nonce', () => {
    const nonce = /<style nonce="([^"]+)">/.exec(page)![1]!
    expect(page).toContain(`<style nonce="${nonce}">${file('page.css')}</style>`)
    expect(page).toContain(`<script nonce="${nonce}">${file('page.js')}</script>`)
  })

  it('every slot of index.html is filled, and the rest of it is served as written', () => {
    const template = file('index.html')
    const slots = [...template.matchAll(/\{\{([a-z-]+)\}\}/g)].map((m) => m[1])
    expect(slots.length).toBeGreaterThan(10)
    expect(page).not.toMatch(/\{\{[a-z-]+\}\}/)
    // Each piece of literal text between slots appears in the page, in order.
    let at = 0
    for (const piece of template.split(/\{\{[a-z-]+\}\}/)) {
      const k = page.indexOf(piece, at)
      expect(k, `template text ${JSON.stringify(piece.slice(0, 60))}`).toBeGreaterThanOrEqual(0)
      at = k + piece.length
    }
  })

  it('page.js is valid JavaScript, and neither file can end its element early', () => {
    execFileSync(process.execPath, ['--check', join(PAGE, 'page.js')])
    expect(file('page.js')).not.toMatch(/<\/script/i)
    expect(file('page.css')).not.toMatch(/<\/style/i)
  })
})

describe('the policy part of the report, serialised once per policy', () => {
  const list = Array.from({ length: 2000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`).join(', ')
  let s: ServeProcess
  beforeAll(async () => {
    await ensureBuilt()
    s = await startServe([], { TRUST_PROXY: list })
  })
  afterAll(async () => {
    await s?.stop()
  })

  it('the JSON report is whole and in its usual key order; the page embeds the same policy part', async () => {
    const json = JSON.parse(await getPage(s.port, 'application/json'))
    expect(Object.keys(json)).toEqual(['version', 'trustProxy', 'request', 'client', 'protocol', 'host', 'resolved', 'walk', 'findings', 'probe', 'websocket'])
    expect(json.version).toBe(1)
    expect(json.trustProxy.ranges).toHaveLength(2000)
    expect(json.trustProxy.value).toBe(list)
    // The meaning names the first 32 entries and counts the rest (the list itself is in ranges).
    expect(json.trustProxy.meaning).toMatch(/^A hop is a proxy when its address is in: 10\.0\.0\.0\/24; 10\.0\.1\.0\/24; /)
    expect(json.trustProxy.meaning).toContain('10.0.31.0/24; and 1,968 more (2,000 entries in all). ')
    const page = await getPage(s.port)
    const embedded = JSON.parse(/<script type="application\/json" id="report"[^>]*>([\s\S]*?)<\/script>/.exec(page)![1]!)
    expect(embedded.trustProxy).toEqual(json.trustProxy)
    expect(Object.keys(embedded)).toEqual(Object.keys(json))
  })

  it('the page shows a long TRUST_PROXY clipped, and says where the whole of it is', async () => {
    const page = await getPage(s.port)
    const shown = /<p><code>TRUST_PROXY=([^<]*)<\/code>/.exec(page)![1]!
    expect(shown.length).toBeLessThan(5000)
    expect(shown).toContain('characters in all: see trustProxy.value in the JSON report')
  })
})
