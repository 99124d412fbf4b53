/*
 * The diagnostic page's browser-side checks (trust-proxy serve), for the checks only a browser
 * can make: the public URL it is at, a forged client-address header, and a WebSocket through
 * the proxy. Loaded into the page at build time (src/cli/page.ts) and run under a nonce CSP.
 *
 * Plain ES2017 for any browser; the DOM is built with textContent only, so nothing the server
 * or a proxy sends becomes markup.
 */
(function () {
  'use strict';
  var data = document.getElementById('report');
  var report = JSON.parse(data.textContent);
  var MARKER = data.getAttribute('data-probe-marker');
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
  function host(h) { return /^(localhost|127\.[0-9.]+|\[::1\])(:|$)/.test(h) || /\.localhost(:|$)/.test(h); }

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
