/**
 * The diagnostic page: everything the app sees for the request, rendered on the server (so it
 * works without JavaScript, in a text browser or `curl`), plus a small script for the checks only
 * a browser can make: the public URL it is at, a forged X-Forwarded-For, and a WebSocket.
 *
 * The page itself is three real files under page/ (index.html, page.css, page.js), bundled as
 * text at build time; this module fills the HTML's slots. Every value on the page comes from the
 * request (headers a client wrote), so all of it is escaped, the report is embedded as JSON that
 * cannot close its script element, and a strict Content-Security-Policy with a per-response nonce
 * allows only this page's own script and style.
 */
import { type Analysis, displayName } from './diagnose.js'
import type { Finding } from './fixes.js'
import TEMPLATE from './page/index.html?raw'
import STYLE from './page/page.css?raw'
import SCRIPT from './page/page.js?raw'

/** What `serve` answers, as JSON or as this page. */
export interface Report {
  version: 1
  trustProxy: {
    kind: string
    hops?: number
    ranges?: readonly string[]
    warnings: readonly { code: string; entry?: string; message: string }[]
    value: string
    meaning: string
    ipHeader: string
  }
  request: {
    method: string
    path: string
    httpVersion: string
    peer: { address: string | null; port: number | null }
    forwarding: Record<string, string>
  }
  client: string | null
  protocol: 'http' | 'https'
  host: string | null
  resolved: Analysis['resolved']
  walk: Analysis['walk']
  findings: Finding[]
  probe: Analysis['probe']
  websocket: { path: string; statusPath: string; pingSeconds: number }
}

/** The address the page forges in its probe: TEST-NET-2, never a real client. */
export const PROBE_MARKER = '198.51.100.77'

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const h = escapeHtml

/** JSON text made safe inside a script element (it cannot close it, and no line separator breaks it). */
function scriptSafe(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

/** Shown on the page, the TRUST_PROXY value and its meaning stop here (the JSON report has them whole). */
const MAX_POLICY_SHOWN = 4096

function clipPolicy(text: string, what: string): string {
  return text.length <= MAX_POLICY_SHOWN ? text : `${text.slice(0, MAX_POLICY_SHOWN)}... (${text.length.toLocaleString('en')} characters in all: see ${what} in the JSON report)`
}

/**
 * What the page and the report say about the policy is the same for every request, and as long
 * as the policy (a 10,000-entry list is 100 KB): it is serialised and escaped once per policy,
 * and each request only splices it in.
 */
interface PolicyParts {
  json: string
  script: string
  value: string
  meaning: string
  warnings: string
}
const policyParts = new WeakMap<Report['trustProxy'], PolicyParts>()

function partsOf(tp: Report['trustProxy']): PolicyParts {
  let parts = policyParts.get(tp)
  if (parts === undefined) {
    const json = JSON.stringify(tp)
    parts = {
      json,
      script: scriptSafe(json),
      value: h(clipPolicy(tp.value, 'trustProxy.value')),
      meaning: h(clipPolicy(tp.meaning, 'trustProxy.meaning')),
      warnings: tp.warnings.length === 0 ? '' : `<ul>${tp.warnings.map((w) => `<li><b>${h(w.code)}</b>: ${h(w.message)}</li>`).join('')}</ul>`,
    }
    policyParts.set(tp, parts)
  }
  return parts
}

/** The report without its policy part, as JSON text after `"trustProxy":...` (a leading comma, or nothing). */
function restJson(report: Report): string {
  const rest = JSON.stringify({ ...report, version: undefined, trustProxy: undefined })
  return rest === '{}' ? '}' : ',' + rest.slice(1)
}

/** The report as JSON (`JSON.stringify(report)`, with the policy part serialised once per policy). */
export function reportJson(report: Report): string {
  return `{"version":${report.version},"trustProxy":${partsOf(report.trustProxy).json}${restJson(report)}`
}

function renderFinding(f: Finding): string {
  const fixes =
    f.fixes === undefined
      ? ''
      : `<div class="fixes">${Object.entries(f.fixes)
          .map(([proxy, text]) => `<details><summary>${h(proxy === 'nginx' ? 'nginx' : proxy[0]!.toUpperCase() + proxy.slice(1))}</summary><pre><code>${h(text)}</code></pre></details>`)
          .join('')}</div>`
  return (
    `<article class="finding ${h(f.severity)}" data-code="${h(f.code)}">` +
    `<h3><span class="sev">${h(f.severity)}</span> ${h(f.title)}</h3>` +
    `<p class="detail">${h(f.detail)}</p>` +
    `<p class="cause"><b>Likely cause:</b> ${h(f.cause)}</p>` +
    (f.setting !== undefined ? `<p class="setting"><b>Fix:</b> <code>${h(f.setting)}</code></p>` : '') +
    fixes +
    '</article>'
  )
}

/**
 * The template, split once at start-up into text and slot names: `parts[2k]` is text,
 * `parts[2k + 1]` the name of the slot that follows it. Rendering is one join, linear in the page.
 */
const PARTS: readonly string[] = TEMPLATE.split(/\{\{([a-z-]+)\}\}/)

/** The slot names of the template, in order (for the tests: every one is filled). */
export const SLOTS: readonly string[] = PARTS.filter((_, k) => k % 2 === 1)

/** Fills the template; every value must already be safe HTML for where its slot is. */
export function fillTemplate(values: Readonly<Record<string, string>>): string {
  let out = ''
  for (let k = 0; k < PARTS.length; k++) {
    if (k % 2 === 0) out += PARTS[k]
    else {
      const v = values[PARTS[k]!]
      if (v === undefined) throw new Error(`page template: no value for slot ${PARTS[k]}`)
      out += v
    }
  }
  return out
}

/** The page for one request. `nonce` goes into the CSP header and onto the inline elements. */
export function renderPage(report: Report, nonce: string): string {
  const r = report.resolved
  const errors = report.findings.filter((f) => f.severity === 'error').length
  const warnings = report.findings.filter((f) => f.severity === 'warning').length
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const verdict =
    errors + warnings === 0
      ? '<div class="verdict ok" id="verdict" data-state="ok">Nothing wrong with this request as the app sees it.</div>'
      : errors === 0
        ? `<div class="verdict warn" id="verdict" data-state="warn">${plural(warnings, 'warning')}: see the findings below.</div>`
        : `<div class="verdict bad" id="verdict" data-state="bad">${plural(errors, 'problem')}${warnings > 0 ? ', ' + plural(warnings, 'warning') : ''}: see the findings below.</div>`
  const peerTrusted = report.walk[0]?.trusted === true
  const source = r.source === 'socket' ? 'the socket peer itself' : `from ${displayName(r.source)}`
  const walkRows = report.walk
    .map(
      (s) =>
        `<tr><td>${s.hop}</td><td class="role-${h(s.role)}">${h(s.role)}</td><td><code>${h(s.address ?? (s.raw === null ? '(no address)' : s.raw))}</code></td>` +
        `<td>${h(s.from === 'socket' ? 'socket peer' : displayName(s.from))}</td><td>${h(s.reason)}</td></tr>`,
    )
    .join('')
  const forwarding = Object.entries(report.request.forwarding)
  const headerRows =
    forwarding.length === 0
      ? '<tr><td colspan="2" class="muted">none</td></tr>'
      : forwarding.map(([k, v]) => `<tr><th>${h(k)}</th><td><code>${h(v)}</code></td></tr>`).join('')
  const tp = report.trustProxy
  const parts = partsOf(tp)
  return fillTemplate({
    nonce,
    style: STYLE,
    script: SCRIPT,
    'title-client': h(report.client ?? 'unknown'),
    'client-ip-attr': h(report.client ?? ''),
    'client-ip': h(report.client ?? '(none)'),
    'client-sub': h(`${source}, ${r.trustedHops} trusted hop${r.trustedHops === 1 ? '' : 's'}`),
    protocol: h(report.protocol),
    host: h(report.host ?? '(none)'),
    peer: h(report.request.peer.address ?? '(Unix socket)'),
    'peer-sub': peerTrusted ? 'a trusted proxy' : 'not trusted by TRUST_PROXY',
    verdict,
    findings: report.findings.length === 0 ? '<p class="muted">None for this request.</p>' : report.findings.map(renderFinding).join(''),
    'ip-header': h(displayName(tp.ipHeader)),
    'ping-seconds': h(String(report.websocket.pingSeconds)),
    'walk-rows': walkRows,
    'header-rows': headerRows,
    'tp-value': parts.value,
    'tp-kind': h(tp.kind),
    'tp-meaning': parts.meaning,
    'tp-warnings': parts.warnings,
    method: h(report.request.method),
    path: h(report.request.path),
    'probe-marker': h(PROBE_MARKER),
    'report-json': `{"version":${report.version},"trustProxy":${parts.script}${scriptSafe(restJson(report))}`,
  })
}
