/**
 * The proxy configs of docs/proxies.md are the templates the end-to-end tests run, rendered with
 * the documentation's values. This fails when either changes without the other.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DOC_CHAIN_HAPROXY, PROXIES, type ProxyKind, renderForDocs } from './support/proxies.js'
import { renderTemplate } from './support/template.js'

const ROOT = new URL('../', import.meta.url)
/** The page with the proxy configs (and any other page that shows one of them). */
const DOCS = ['docs/proxies.md', 'README.md', ...readdirSync(new URL('docs/', ROOT)).map((f) => `docs/${f}`)]
  .filter((f, i, all) => f.endsWith('.md') && all.indexOf(f) === i && existsSync(new URL(f, ROOT)))
const KINDS = Object.keys(PROXIES) as ProxyKind[]

/** The fenced block right after `<!-- rendered from test/proxies/templates/<file> -->`. */
function documentedConfig(text: string, template: string): string | undefined {
  const marker = `<!-- rendered from test/proxies/templates/${template} -->`
  const at = text.indexOf(marker)
  if (at < 0) return undefined
  const m = /^\s*```[a-z]*\n([\s\S]*?)^```/m.exec(text.slice(at + marker.length))
  return m?.[1]
}

describe('documented proxy configs', () => {
  const withSection = DOCS.filter((f) => /^<!-- rendered from test\/proxies\/templates\//m.test(readFileSync(new URL(f, ROOT), 'utf8')))

  it('are in docs/proxies.md', () => {
    expect(withSection).toContain('docs/proxies.md')
  })

  /** docs/proxies.md shows every config; another page is held to the configs it shows. */
  const shows = (file: string, template: string) =>
    file === 'docs/proxies.md' || readFileSync(new URL(file, ROOT), 'utf8').includes(`<!-- rendered from test/proxies/templates/${template} -->`)

  for (const file of withSection) {
    for (const kind of KINDS.filter((k) => shows(file, PROXIES[k].template))) {
      it(`${file}: the ${kind} config is ${PROXIES[kind].template} as the tests run it`, () => {
        const text = readFileSync(new URL(file, ROOT), 'utf8')
        expect(documentedConfig(text, PROXIES[kind].template)).toBe(renderForDocs(kind))
      })
    }
  }

  for (const file of withSection.filter((f) => shows(f, 'haproxy.cfg.tmpl (chain: server line)'))) {
    it(`${file}: the HAProxy-in-front-of-nginx server line is the template's, as the chain test runs it`, () => {
      const text = readFileSync(new URL(file, ROOT), 'utf8')
      const serverLine = renderForDocs('haproxy', DOC_CHAIN_HAPROXY)
        .split('\n')
        .filter((l) => /^\s*server /.test(l))
        .join('\n')
      expect(serverLine).toMatch(/ ssl verify required /)
      expect(documentedConfig(text, 'haproxy.cfg.tmpl (chain: server line)')).toBe(`${serverLine}\n`)
    })
  }

  it('show no harness-only lines and no unfilled placeholders', () => {
    for (const kind of KINDS) {
      const doc = renderForDocs(kind)
      expect(doc).not.toMatch(/\{\{|\}\}|Test harness|\/tmp\//)
    }
  })
})

describe('template language', () => {
  it('keeps or drops sections, whole lines when the tags stand alone', () => {
    const t = 'a\n{{#on}}\nb {{x}}\n{{/on}}\n{{^on}}\nc\n{{/on}}\nd{{#on}} e{{/on}}\n'
    expect(renderTemplate(t, { on: true, x: '1' })).toBe('a\nb 1\nd e\n')
    expect(renderTemplate(t, { on: false, x: '1' })).toBe('a\nc\nd\n')
  })

  it('refuses a value the template uses but the caller did not give', () => {
    expect(() => renderTemplate('{{missing}}', {})).toThrow(/missing/)
    expect(() => renderTemplate('{{#flag}}x{{/flag}}', {})).toThrow(/flag/)
    expect(() => renderTemplate('{{#flag}}x', { flag: true })).toThrow(/never closed/)
  })
})
