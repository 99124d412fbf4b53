/**
 * The diagnostic page of `trust-proxy serve` in a real browser: headless Chromium (Debian's
 * `chromium`, driven by playwright-core) opens it directly, then through nginx over HTTPS with a
 * self-signed certificate, and the test reads from the page the client IP and the result of the
 * WebSocket check. Screenshots are saved under test-artifacts/.
 *
 * nginx connects to the app from 127.0.0.9 (`proxy_bind`, test/support/proxies.ts), so
 * TRUST_PROXY=127.0.0.9 trusts nginx and nothing else on this host (spec section 6).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IN_CI, ROOT, type ServeProcess, ensureBuilt, hasBinary, startServe } from './support/cli-run.js'
import {
  PROXIES,
  PUBLIC_HOST,
  type RunningProxy,
  availability,
  makeCertificate,
  makeWorkDir,
  removeWorkDir,
  startProxy,
} from './support/proxies.js'

const CHROMIUM = '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const ARTIFACTS = join(ROOT, 'test-artifacts')
const NGINX_SOURCE = PROXIES.nginx.sourceV4!

/** Missing tools skip the tests with what to install, except in CI, where they fail. */
function requireTools(title: string, missing: string | undefined, body: () => void): void {
  if (missing === undefined) describe(title, body)
  else if (IN_CI) {
    describe(title, () => {
      it('has its tools installed', () => {
        throw new Error(`${missing} (CI must install it before the tests)`)
      })
    })
  } else {
    console.warn(`[skip] ${title}: ${missing}`)
    describe.skip(`${title} (skipped: ${missing})`, body)
  }
}

const chromiumMissing = hasBinary(CHROMIUM) ? undefined : 'chromium not installed: run `apt-get install -y chromium`'

interface Browser {
  context: BrowserContext
  page: Page
  /** Console errors and uncaught exceptions (a CSP violation shows up here). */
  errors: string[]
  close(): Promise<void>
}

async function openBrowser(extraArgs: string[] = []): Promise<Browser> {
  // A new, empty profile for every run.
  const profile = mkdtempSync(join(tmpdir(), 'trust-proxy-chromium-'))
  let context: BrowserContext | undefined
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...FLAGS, ...extraArgs],
      ignoreHTTPSErrors: true, // the test's self-signed certificate
      viewport: { width: 1100, height: 900 },
    })
  } catch (e) {
    rmSync(profile, { recursive: true, force: true })
    throw e
  }
  const page = context.pages()[0] ?? (await context.newPage())
  const errors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(e.message))
  return {
    context,
    page,
    errors,
    close: async () => {
      await context!.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** What the page shows once its browser checks have run, read from the DOM. */
async function readPage(page: Page) {
  await page.locator('#probe-check:not([data-state="pending"])').waitFor({ timeout: 20_000 })
  // Two pings: the WebSocket opened and stayed open.
  await page.locator('#ws-alive[data-ticks]:not([data-ticks="1"])').waitFor({ timeout: 20_000 })
  const text = (id: string) => page.locator(`#${id}`).innerText()
  const state = (id: string) => page.locator(`#${id}`).getAttribute('data-state')
  return {
    clientIp: (await text('client-ip')).trim(),
    peer: (await text('peer')).trim(),
    protocol: (await text('protocol')).trim(),
    host: (await text('host')).trim(),
    verdict: await state('verdict'),
    findings: await page.locator('article.finding').evaluateAll((els) => els.map((e) => e.getAttribute('data-code'))),
    https: { state: await state('https-check'), text: await text('https-check') },
    probe: { state: await state('probe-check'), text: await text('probe-check') },
    ws: {
      state: await state('ws-status'),
      text: await text('ws-status'),
      route: await text('ws-route'),
      routeState: await state('ws-route'),
      clientIp: await page.locator('#ws-client').getAttribute('data-ip'),
      clientState: await state('ws-client'),
      alive: await text('ws-alive'),
    },
  }
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true })
}

beforeAll(ensureBuilt)

requireTools('the diagnostic page in Chromium, directly', chromiumMissing, () => {
  let serve: ServeProcess
  let browser: Browser
  beforeAll(async () => {
    serve = await startServe(['--trust-proxy', NGINX_SOURCE, '--ping-interval', '0.5'])
    try {
      browser = await openBrowser()
    } catch (e) {
      await serve.stop()
      throw e
    }
  })
  afterAll(async () => {
    await browser?.close()
    await serve?.stop()
  })

  it('shows the client IP, and the WebSocket opens and stays open', async () => {
    const { page, errors } = browser
    await page.goto(serve.url + '/')
    const seen = await readPage(page)
    await screenshot(page, 'cli-serve-direct.png')
    // Chromium connects from 127.0.0.1, which TRUST_PROXY (nginx's 127.0.0.9) does not trust.
    expect(seen.clientIp).toBe('127.0.0.1')
    expect(seen.peer).toBe('127.0.0.1')
    expect(seen.protocol).toBe('http')
    expect(seen.verdict).toBe('ok')
    expect(seen.findings).toEqual([])
    expect(seen.https.state).toBe('info')
    expect(seen.probe).toMatchObject({ state: 'ok' })
    expect(seen.probe.text).toMatch(/^refused/)
    expect(seen.ws).toMatchObject({ state: 'ok', text: 'open', clientIp: '127.0.0.1', clientState: 'ok' })
    expect(seen.ws.route).toMatch(/^direct/)
    expect(seen.ws.alive).toMatch(/open for \d+ s, \d+ pings received/)
    expect(errors).toEqual([])

    const audit = await serve.waitForAudit((l) => l.event === 'websocket')
    expect(audit).toMatchObject({ status: 101, client: '127.0.0.1', peer: '127.0.0.1' })
    const probe = await serve.waitForAudit((l) => l.event === 'http' && l.probe !== null)
    expect(probe).toMatchObject({ client: '127.0.0.1', probe: 'ignored' })
  })
})

const nginxGate = availability(['nginx'])
requireTools(
  'the diagnostic page in Chromium, through nginx over HTTPS',
  chromiumMissing ?? (nginxGate.available ? undefined : nginxGate.message),
  () => {
    let dir = ''
    let serve: ServeProcess | undefined
    let nginx: RunningProxy | undefined
    let browser: Browser | undefined
    beforeAll(async () => {
      try {
        dir = await makeWorkDir('trust-proxy-cli-browser-')
        const cert = await makeCertificate(dir)
        serve = await startServe(['--trust-proxy', NGINX_SOURCE, '--ping-interval', '0.5'])
        nginx = await startProxy('nginx', { upstream: { host: '127.0.0.1', port: serve.port }, cert })
        expect(nginx.source).toBe(NGINX_SOURCE)
        // The certificate is for PUBLIC_HOST; let the browser find it on loopback.
        browser = await openBrowser([`--host-resolver-rules=MAP ${PUBLIC_HOST} 127.0.0.1`])
      } catch (e) {
        await browser?.close()
        await nginx?.stop()
        await serve?.stop()
        if (dir) await removeWorkDir(dir)
        throw e
      }
    })
    afterAll(async () => {
      await browser?.close()
      await nginx?.stop()
      await serve?.stop()
      if (dir) await removeWorkDir(dir)
    })

    it('shows the real client IP, https, and a WebSocket through nginx that stays open', async () => {
      const { page, errors } = browser!
      const url = `https://${PUBLIC_HOST}:${nginx!.httpsPort}/checklist`
      await page.goto(url)
      const seen = await readPage(page)
      await screenshot(page, 'cli-serve-nginx-https.png')
      expect(seen.clientIp).toBe('127.0.0.1')
      expect(seen.peer).toBe(NGINX_SOURCE)
      expect(seen.protocol).toBe('https')
      expect(seen.host).toBe(`${PUBLIC_HOST}:${nginx!.httpsPort}`)
      expect(seen.findings).toEqual([])
      expect(seen.verdict).toBe('ok')
      expect(seen.https.state).toBe('ok')
      expect(seen.probe.state).toBe('ok')
      expect(seen.probe.text).toMatch(/^refused: the page sent X-Forwarded-For: 198\.51\.100\.77 and the app still saw 127\.0\.0\.1/)
      expect(seen.ws).toMatchObject({ state: 'ok', clientIp: '127.0.0.1', clientState: 'ok', routeState: 'ok' })
      expect(seen.ws.route).toBe(`through a trusted proxy (peer ${NGINX_SOURCE})`)
      expect(errors).toEqual([])

      const ws = await serve!.waitForAudit((l) => l.event === 'websocket')
      expect(ws).toMatchObject({ status: 101, peer: NGINX_SOURCE, client: '127.0.0.1', protocol: 'https', anomalies: [] })
      const probe = await serve!.waitForAudit((l) => l.event === 'http' && l.probe !== null)
      expect(probe).toMatchObject({ peer: NGINX_SOURCE, client: '127.0.0.1', probe: 'refused' })
    })

    it('plain HTTP is redirected to HTTPS', async () => {
      const { page } = browser!
      const response = await page.goto(`http://${PUBLIC_HOST}:${nginx!.httpPort}/login`)
      expect(response?.ok()).toBe(true)
      expect(page.url()).toBe(`https://${PUBLIC_HOST}:${nginx!.httpsPort}/login`)
      expect((await page.locator('#protocol').innerText()).trim()).toBe('https')
    })
  },
)
