/**
 * The diagnostic page: everything the app sees for the request, rendered on the server (so it
 * works without JavaScript, in a text browser or `curl`), plus a small script for the checks only
 * a browser can make: the public URL it is at, a forged X-Forwarded-For, and a WebSocket.
 *
 * Every value on the page comes from the request (headers a client wrote), so all of it is
 * escaped, the report is embedded as JSON that cannot close its script element, and a strict
 * Content-Security-Policy with a per-response nonce allows only this page's own script and style.
 */
import { type Analysis, displayName } from './diagnose.js'
import type { Finding } from './fixes.js'

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

/** JSON that is safe inside a script element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
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

const STYLE = `
:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6570;--card:#fff;--line:#d9dee4;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--info:#0969da;--code:#eef1f4}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--card:#161b22;--line:#30363d;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--info:#58a6ff;--code:#1f2630}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:0 0 6px}
p{margin:6px 0}
.lead{color:var(--muted);margin:0 0 18px}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:var(--code);padding:1px 5px;border-radius:4px;overflow-wrap:anywhere}
pre{background:var(--code);padding:10px 12px;border-radius:6px;overflow-x:auto;margin:6px 0}
pre code{padding:0;background:none}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font:600 20px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere;margin:2px 0}
.card .sub{color:var(--muted);font-size:13px}
.verdict{margin:16px 0 0;padding:10px 14px;border-radius:8px;border:1px solid var(--line);background:var(--card);font-weight:600}
.verdict.ok{border-color:var(--ok);color:var(--ok)}
.verdict.bad{border-color:var(--bad);color:var(--bad)}
.verdict.warn{border-color:var(--warn);color:var(--warn)}
.finding{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--info);border-radius:8px;padding:12px 14px;margin:10px 0}
.finding.error{border-left-color:var(--bad)}
.finding.warning{border-left-color:var(--warn)}
.sev{display:inline-block;font-size:11px;text-transform:uppercase;letter-spacing:.05em;padding:1px 6px;border-radius:4px;color:#fff;background:var(--info);vertical-align:2px}
.error .sev{background:var(--bad)}
.warning .sev{background:var(--warn)}
.detail{color:var(--fg)}
.cause{color:var(--muted)}
.fixes{margin-top:4px}
.fixes pre{white-space:pre-wrap;overflow-wrap:anywhere}
details summary{cursor:pointer;color:var(--info);font-weight:600;font-size:14px;margin-top:4px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{color:var(--muted);font-weight:600;font-size:13px;white-space:nowrap}
tr:last-child td,tr:last-child th{border-bottom:none}
table.kv th{width:230px}
.state{font-weight:600}
[data-state=ok]{color:var(--ok)}
[data-state=bad]{color:var(--bad)}
[data-state=warn]{color:var(--warn)}
[data-state=pending],[data-state=info]{color:var(--muted)}
.role-client{color:var(--ok);font-weight:600}
.role-malformed{color:var(--bad);font-weight:600}
.role-ignored{color:var(--muted)}
.muted{color:var(--muted)}
footer{margin-top:32px;color:var(--muted);font-size:13px}
`

/**
 * The browser-side checks. Plain ES2017, no template literals (this file embeds it in one), DOM
 * built with textContent only: nothing the server or a proxy sends becomes markup.
 */
const SCRIPT = `
(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('report').textContent);
  var MARKER = '${PROBE_MARKER}';
  var PROBE_CODES = ['header-not-appended', 'forged-entry-believed', 'header-replaced', 'http-behind-https', 'public-http'];
  function display(name) {
    return name.split('-').map(function (w) { return w === 'ip' || w === 'cf' ? w.toUpperCase() : w.charAt(0).toUpperCase() + w.slice(1); }).join('-');
  }
  function $(id) { return document.getElementById(id); }
  function set(id, text, state) {
    var el = $(id);
    el.textContent = text;
    if (state) el.setAttribute('data-state', state);
    return el;
  }
  var shown = {};
  report.findings.forEach(function (f) { shown[f.code] = true; });
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function addFinding(f, where) {
    if (shown[f.code]) return;
    shown[f.code] = true;
    var a = el('article', 'finding ' + f.severity);
    a.setAttribute('data-code', f.code);
    var h3 = el('h3');
    h3.appendChild(el('span', 'sev', f.severity));
    h3.appendChild(document.createTextNode(' ' + (where ? where + ': ' : '') + f.title));
    a.appendChild(h3);
    a.appendChild(el('p', 'detail', f.detail));
    var c = el('p', 'cause');
    c.appendChild(el('b', null, 'Likely cause: '));
    c.appendChild(document.createTextNode(f.cause));
    a.appendChild(c);
    if (f.setting) {
      var s = el('p', 'setting');
      s.appendChild(el('b', null, 'Fix: '));
      s.appendChild(el('code', null, f.setting));
      a.appendChild(s);
    }
    if (f.fixes) {
      var box = el('div', 'fixes');
      Object.keys(f.fixes).forEach(function (k) {
        var d = el('details');
        d.appendChild(el('summary', null, k === 'nginx' ? k : k.charAt(0).toUpperCase() + k.slice(1)));
        var pre = el('pre');
        pre.appendChild(el('code', null, f.fixes[k]));
        d.appendChild(pre);
        box.appendChild(d);
      });
      a.appendChild(box);
    }
    $('browser-findings').appendChild(a);
  }
  function host(h) { return /^(localhost|127\\.[0-9.]+|\\[::1\\])(:|$)/.test(h) || /\\.localhost(:|$)/.test(h); }

  // 1. The public URL and a forged client-address header, in one request.
  var headers = { 'Accept': 'application/json', 'X-Trust-Proxy-Probe': MARKER, 'X-Trust-Proxy-Public-Url': location.href };
  var ipHeader = report.trustProxy.ipHeader;
  headers[ipHeader] = ipHeader === 'forwarded' ? 'for=' + MARKER : MARKER;
  fetch(location.pathname + location.search, { headers: headers, cache: 'no-store', credentials: 'omit' })
    .then(function (r) { return r.json(); })
    .then(function (p) {
      var https = location.protocol === 'https:';
      if (https && p.protocol === 'https') set('https-check', 'https: the browser and the app agree', 'ok');
      else if (https) set('https-check', 'the browser is on https, but the app sees http (see below)', 'bad');
      else if (host(location.host)) set('https-check', 'plain http on a local address: fine for a test; open the public https address to check the proxy', 'info');
      else set('https-check', 'plain http through the proxy: it should redirect to https (see below)', 'bad');
      var v = p.probe ? p.probe.verdict : 'none';
      var label = 'the page sent ' + display(report.trustProxy.ipHeader) + ': ' + MARKER + ' and the app ';
      if (v === 'refused') set('probe-check', 'refused: ' + label + 'still saw ' + p.client, 'ok');
      else if (v === 'replaced') set('probe-check', 'refused: the proxy replaced the forged header; the app saw ' + p.client, 'ok');
      else if (v === 'ignored') set('probe-check', 'refused: the socket peer is not trusted, so no forwarding header is believed', 'ok');
      else set('probe-check', 'BELIEVED: ' + label + 'recorded ' + p.client + ' as the client', 'bad');
      // Only what the probe was for: the rest of this response is about a header the page forged.
      p.findings.forEach(function (f) { if (PROBE_CODES.indexOf(f.code) >= 0) addFinding(f); });
    })
    .catch(function (e) { set('probe-check', 'the check failed: ' + e, 'bad'); set('https-check', 'the check failed: ' + e, 'bad'); });

  // 2. A WebSocket to this origin: through the proxy, with the client IP, kept open.
  var id = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + report.websocket.path + '?id=' + id;
  var opened = 0, ticks = 0, ws;
  try { ws = new WebSocket(wsUrl); } catch (e) { set('ws-status', 'could not start: ' + e, 'bad'); return; }
  ws.onopen = function () { opened = Date.now(); set('ws-status', 'open', 'ok'); };
  ws.onmessage = function (ev) {
    var m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === 'hello') {
      var route = m.throughProxy
        ? (m.peerTrusted ? 'through a trusted proxy (peer ' + m.peer + ')' : 'through a proxy that TRUST_PROXY does not trust (peer ' + m.peer + ')')
        : 'direct: no forwarding headers (peer ' + m.peer + ')';
      set('ws-route', route, m.throughProxy ? (m.peerTrusted ? 'ok' : 'bad') : 'info');
      var same = m.client === report.client;
      var c = set('ws-client', (m.client || '(none)') + (same ? '  (same as the page)' : '  (the page saw ' + report.client + ')'), same ? 'ok' : 'bad');
      c.setAttribute('data-ip', m.client || '');
      (m.findings || []).forEach(function (f) { addFinding(f, 'WebSocket'); });
    } else if (m.type === 'tick') {
      ticks++;
      var a = set('ws-alive', 'open for ' + Math.round((Date.now() - opened) / 1000) + ' s, ' + ticks + ' ping' + (ticks === 1 ? '' : 's') + ' received', 'ok');
      a.setAttribute('data-ticks', String(ticks));
      ws.send(JSON.stringify({ type: 'pong', n: m.n }));
    }
  };
  ws.onclose = function (ev) {
    if (opened) {
      set('ws-status', 'closed after ' + Math.round((Date.now() - opened) / 1000) + ' s (code ' + ev.code + ')', 'bad');
      return;
    }
    set('ws-status', 'failed to open', 'bad');
    fetch(report.websocket.statusPath + '?id=' + id, { headers: { 'Accept': 'application/json' }, cache: 'no-store', credentials: 'omit' })
      .then(function (r) { return r.json(); })
      .then(function (s) { if (s.finding) addFinding(s.finding, 'WebSocket'); })
      .catch(function () {});
  };
})();
`

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
  const peer = report.request.peer.address ?? '(Unix socket)'
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
  const warningsList =
    tp.warnings.length === 0 ? '' : `<ul>${tp.warnings.map((w) => `<li><b>${h(w.code)}</b>: ${h(w.message)}</li>`).join('')}</ul>`

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>trust-proxy: client ${h(report.client ?? 'unknown')}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
<h1>trust-proxy diagnostic</h1>
<p class="lead">What an app behind your proxy sees for this request, and what to fix. Open this page through the proxy, at the site's public address.</p>
<div class="cards">
  <div class="card"><div class="label">Client IP</div><div class="value" id="client-ip" data-ip="${h(report.client ?? '')}">${h(report.client ?? '(none)')}</div><div class="sub">${h(source)}, ${r.trustedHops} trusted hop${r.trustedHops === 1 ? '' : 's'}</div></div>
  <div class="card"><div class="label">Protocol</div><div class="value" id="protocol">${h(report.protocol)}</div><div class="sub">the scheme the client used, as the app resolves it</div></div>
  <div class="card"><div class="label">Host</div><div class="value" id="host">${h(report.host ?? '(none)')}</div><div class="sub">as the client asked for it</div></div>
  <div class="card"><div class="label">Socket peer</div><div class="value" id="peer">${h(peer)}</div><div class="sub">${peerTrusted ? 'a trusted proxy' : 'not trusted by TRUST_PROXY'}</div></div>
</div>
${verdict}

<h2>Findings</h2>
<div id="findings">${report.findings.length === 0 ? '<p class="muted">None for this request.</p>' : report.findings.map(renderFinding).join('')}</div>

<h2>Browser checks</h2>
<table class="kv">
<tr><th>HTTPS</th><td class="state" id="https-check" data-state="pending">checking...</td></tr>
<tr><th>Forged ${h(displayName(tp.ipHeader))}</th><td class="state" id="probe-check" data-state="pending">checking...</td></tr>
<tr><th>WebSocket</th><td class="state" id="ws-status" data-state="pending">connecting...</td></tr>
<tr><th>WebSocket route</th><td class="state" id="ws-route" data-state="pending">-</td></tr>
<tr><th>Client IP on the WebSocket</th><td class="state" id="ws-client" data-state="pending">-</td></tr>
<tr><th>Stays open</th><td class="state" id="ws-alive" data-state="pending">waiting for the first ping (every ${report.websocket.pingSeconds} s)</td></tr>
</table>
<noscript><p class="muted">These checks need JavaScript.</p></noscript>
<div id="browser-findings"></div>

<h2>The walk</h2>
<p class="muted">From the socket peer leftwards through ${h(displayName(tp.ipHeader))}, while each hop is trusted; the client is the first hop that is not.</p>
<table class="walk"><tr><th>hop</th><th>role</th><th>address</th><th>from</th><th>why</th></tr>${walkRows}</table>

<h2>Forwarding headers received</h2>
<table class="kv">${headerRows}</table>
<p class="muted">Only forwarding headers are shown; cookies and credentials are never shown or logged.</p>

<h2>TRUST_PROXY</h2>
<p><code>TRUST_PROXY=${h(tp.value)}</code> (${h(tp.kind)})</p>
<p>${h(tp.meaning)}</p>
${warningsList}

<footer>trust-proxy serve &middot; ${h(report.request.method)} ${h(report.request.path)} &middot; <a href="?format=json">this report as JSON</a> (or send <code>Accept: application/json</code>)</footer>
</main>
<script type="application/json" id="report">${scriptJson(report)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`
}
