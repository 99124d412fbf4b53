/**
 * What each anomaly most likely means in a real deployment, and the concrete change that fixes
 * it in nginx, Apache, Caddy and Traefik.
 *
 * Infram's troubleshooting list (wrong source IP, redirect loops, WebSocket disconnects) comes
 * down to a handful of proxy settings. An operator looking at a wrong audit IP needs the line
 * to add, not a description of the protocol, so each fix is a configuration snippet for an app
 * listening on 127.0.0.1:6989 (Infram's default).
 */

import { providerEdgeFinding } from './presets.js'

export type Severity = 'error' | 'warning' | 'info'

export type FindingCode =
  | 'trust-proxy-off'
  | 'peer-not-trusted'
  | 'missing-forwarded-proto'
  | 'invalid-forwarded-proto'
  | 'invalid-forwarded-host'
  | 'invalid-host'
  | 'malformed-entry'
  | 'malformed-peer'
  | 'short-chain'
  | 'no-forwarded-for'
  | 'header-not-appended'
  | 'forged-entry-believed'
  | 'header-replaced'
  | 'http-behind-https'
  | 'public-http'
  | 'websocket-upgrade-stripped'
  | 'websocket-not-reached'
  | 'trust-function-error'
  | 'hop-count-public-peer'
  | 'provider-edge'

export interface ProxyFixes {
  nginx: string
  apache: string
  caddy: string
  traefik: string
}

/** One thing wrong (or worth knowing) about a request, with its likely cause and fixes. */
export interface Finding {
  code: FindingCode
  severity: Severity
  title: string
  /** What was seen on this request. */
  detail: string
  cause: string
  /** A change to the app's setting, when that is the fix (`TRUST_PROXY=...`). */
  setting?: string
  fixes?: ProxyFixes
}

const APP = '127.0.0.1:6989'

const PROTO_FIXES: ProxyFixes = {
  nginx: `# in the location that proxies to the app\nproxy_set_header X-Forwarded-Proto $scheme;`,
  apache:
    '# a2enmod headers; in <VirtualHost *:443>\nRequestHeader set X-Forwarded-Proto "https"\n' +
    '# and in <VirtualHost *:80>, if it proxies too\nRequestHeader set X-Forwarded-Proto "http"',
  caddy: `# reverse_proxy sets X-Forwarded-Proto itself; remove any line that deletes it:\n#   header_up -X-Forwarded-Proto\nreverse_proxy ${APP}`,
  traefik:
    '# Traefik sets X-Forwarded-Proto itself; remove a headers middleware that blanks it:\n' +
    '#   customRequestHeaders:\n#     X-Forwarded-Proto: ""',
}

const APPEND_FIXES: ProxyFixes = {
  nginx: '# append the address nginx sees to what came before\nproxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  apache: '# mod_proxy appends X-Forwarded-For unless this is off\nProxyAddHeaders On\n# and remove any RequestHeader line that sets or unsets X-Forwarded-For',
  caddy:
    '# reverse_proxy appends the client address itself; remove hand-written lines such as\n' +
    '#   header_up X-Forwarded-For {http.request.header.X-Forwarded-For}\n' +
    `reverse_proxy ${APP}`,
  traefik:
    '# Traefik appends the client address itself. If a hop in front of it does not,\n' +
    '# fix that hop; and never set forwardedHeaders.insecure: true on a public entry point',
}

/**
 * Which address to trust, per proxy. A proxy on the same host that can choose the address it
 * connects from is given one of its own (nginx `proxy_bind`, Apache `ProxySourceAddress`), and
 * TRUST_PROXY names that address: 127.0.0.1 and `loopback` would also trust every other process
 * on the host. These are the addresses docs/proxies.md uses (a test keeps them equal).
 */
export const SAME_HOST_SOURCE = { nginx: '127.0.0.9', apache: '127.0.0.11' } as const

const WHERE_PROXY_CONNECTS_FROM: ProxyFixes = {
  nginx:
    "# nginx on the same host: connect to the app from an address of nginx's own, so that\n" +
    '# TRUST_PROXY names nginx and no other process on this host\n' +
    `proxy_pass http://${APP};\nproxy_bind ${SAME_HOST_SOURCE.nginx};\n` +
    `# then: TRUST_PROXY=${SAME_HOST_SOURCE.nginx}`,
  apache:
    "# Apache on the same host: connect to the app from an address of Apache's own\n" +
    `ProxySourceAddress ${SAME_HOST_SOURCE.apache}\nProxyPass        / http://${APP}/\nProxyPassReverse / http://${APP}/\n` +
    `# then: TRUST_PROXY=${SAME_HOST_SOURCE.apache}`,
  caddy:
    '# Caddy on the same host cannot choose the address it connects from: TRUST_PROXY=127.0.0.1\n' +
    '# Caddy in Docker connects from its address on the Docker network; trust that network:\n' +
    "#   docker network inspect NETWORK --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}'\n" +
    '#   TRUST_PROXY=172.18.0.0/16   (the subnet printed above)',
  traefik:
    '# Traefik in Docker connects from its address on the Docker network; trust that network:\n' +
    "#   docker network inspect NETWORK --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}'\n" +
    '#   TRUST_PROXY=172.18.0.0/16   (the subnet printed above)',
}

const HOST_FIXES: ProxyFixes = {
  nginx: 'proxy_set_header Host $host;\nproxy_set_header X-Forwarded-Host $host;',
  apache: '# pass the Host the client asked for\nProxyPreserveHost On',
  caddy: `# reverse_proxy passes Host and sets X-Forwarded-Host itself; remove header_up Host lines\nreverse_proxy ${APP}`,
  traefik: '# Traefik passes Host and sets X-Forwarded-Host itself; check for a headers middleware that rewrites them',
}

const REDIRECT_FIXES: ProxyFixes = {
  nginx: 'server {\n    listen 80;\n    server_name infram.example.com;\n    return 301 https://$host$request_uri;\n}',
  apache: '<VirtualHost *:80>\n    ServerName infram.example.com\n    Redirect permanent / https://infram.example.com/\n</VirtualHost>',
  caddy:
    '# Caddy redirects HTTP to HTTPS itself for a site with a domain name; write the site\n' +
    '# address as infram.example.com (not http://infram.example.com or :80)',
  traefik:
    'entryPoints:\n  web:\n    address: ":80"\n    http:\n      redirections:\n        entryPoint:\n' +
    '          to: websecure\n          scheme: https',
}

const WEBSOCKET_FIXES: ProxyFixes = {
  nginx:
    'proxy_http_version 1.1;\nproxy_set_header Upgrade $http_upgrade;\nproxy_set_header Connection "upgrade";\n' +
    'proxy_read_timeout 1h;   # long terminal sessions',
  apache:
    `# Apache 2.4.47 or later\nProxyPass / http://${APP}/ upgrade=websocket\n` +
    '# older: a2enmod proxy_wstunnel rewrite, then\nRewriteEngine on\nRewriteCond %{HTTP:Upgrade} websocket [NC]\n' +
    `RewriteRule ^/?(.*) ws://${APP}/$1 [P,L]`,
  caddy: `# reverse_proxy passes WebSocket upgrades itself; remove header_up Connection/Upgrade lines\nreverse_proxy ${APP}`,
  traefik: '# Traefik passes WebSocket upgrades itself; check that this path is routed to this service\n# and that no middleware on the router rewrites Connection or Upgrade',
}

/** A value as it is written after `TRUST_PROXY=` in a shell or an env file: quoted when it has spaces. */
export function shellValue(v: string): string {
  return /^[A-Za-z0-9_.,:/%~@+-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`
}

/**
 * The TRUST_PROXY entry that names a peer: its own address (never `loopback`, which would trust
 * every process on the host as well), or `unix` for a peer with no address.
 */
export function entryForPeer(peer: string | undefined, _isLoopback?: boolean): string {
  return peer === undefined ? 'unix' : peer
}

export interface FindingInput {
  /** The request's socket peer, canonical. */
  peer: string | undefined
  /** The TRUST_PROXY entry that would trust the peer. */
  peerEntry: string
  /** The TRUST_PROXY value in force, canonical. */
  value: string
  /** The value with the peer added (ranges), or the peer's entry alone. */
  valueWithPeer: string
  /** The header the client address is read from, as displayed (`X-Forwarded-For`). */
  header: string
  /** Text of the header as received, for details. */
  headerText: string | undefined
}

type Builder = (i: FindingInput & { extra: Record<string, string | number | undefined> }) => Finding

const q = (s: string | undefined): string => (s === undefined ? '(none)' : JSON.stringify(s))

/** The catalogue: one builder per finding. */
export const FINDINGS: Record<FindingCode, Builder> = {
  'provider-edge': (i) => providerEdgeFinding(i),
  'trust-proxy-off': (i) => ({
    code: 'trust-proxy-off',
    severity: 'error',
    title: 'TRUST_PROXY is off, but this request came through a proxy',
    detail: `The socket peer ${i.peer ?? '(Unix socket)'} sent forwarding headers (${i.header}: ${q(i.headerText)}); with TRUST_PROXY=${i.value} they are ignored, so every client is recorded as ${i.peer ?? 'the proxy'}.`,
    cause: 'TRUST_PROXY is unset or false while the app runs behind a reverse proxy. (If no proxy is in front, this client sent the headers itself, and ignoring them is right.)',
    setting: `TRUST_PROXY=${shellValue(i.peerEntry)}`,
    fixes: WHERE_PROXY_CONNECTS_FROM,
  }),
  'peer-not-trusted': (i) => ({
    code: 'peer-not-trusted',
    severity: 'error',
    title: 'The socket peer is not a trusted proxy, but sent forwarding headers',
    detail: `The socket peer ${i.peer ?? '(Unix socket)'} is not in TRUST_PROXY=${i.value}; its ${i.header} (${q(i.headerText)}) is ignored and the client is recorded as ${i.peer ?? 'the peer'}.`,
    cause:
      'Either the proxy connects from an address TRUST_PROXY does not list (a Docker network, IPv6 ::1 when only 127.0.0.1 is listed, another host), ' +
      'or this client reached the app without going through the proxy (an exposed port, or a forgery attempt). Only trust the peer if it is your proxy; ' +
      'otherwise make the app listen on 127.0.0.1, or firewall its port, so that clients cannot bypass the proxy.',
    setting: `TRUST_PROXY=${shellValue(i.valueWithPeer)}`,
    fixes: WHERE_PROXY_CONNECTS_FROM,
  }),
  'missing-forwarded-proto': () => ({
    code: 'missing-forwarded-proto',
    severity: 'warning',
    title: 'X-Forwarded-Proto is missing',
    detail: 'A trusted proxy forwarded this request without saying whether the client used HTTP or HTTPS; the app sees the protocol of its own socket (http).',
    cause:
      'The proxy does not set X-Forwarded-Proto. The app then builds http:// URLs and redirects and marks cookies as not secure: behind an HTTPS site this causes redirect loops and lost sessions.',
    fixes: PROTO_FIXES,
  }),
  'invalid-forwarded-proto': (i) => ({
    code: 'invalid-forwarded-proto',
    severity: 'warning',
    title: 'X-Forwarded-Proto is not http or https',
    detail: `The right-most X-Forwarded-Proto value ${q(String(i.extra.proto ?? ''))} was ignored; the socket's protocol is used.`,
    cause: "The proxy passes the client's own X-Forwarded-Proto through, or sets it to something else (wss, a list).",
    fixes: { ...PROTO_FIXES, nginx: 'proxy_set_header X-Forwarded-Proto $scheme;   # not $http_x_forwarded_proto' },
  }),
  'invalid-forwarded-host': (i) => ({
    code: 'invalid-forwarded-host',
    severity: 'warning',
    title: 'X-Forwarded-Host is not a valid host',
    detail: `The right-most X-Forwarded-Host value ${q(String(i.extra.host ?? ''))} was ignored; the Host header is used.`,
    cause: "The proxy passes the client's own X-Forwarded-Host through, or writes a value with a path, a space or user info.",
    fixes: HOST_FIXES,
  }),
  'invalid-host': () => ({
    code: 'invalid-host',
    severity: 'warning',
    title: 'The Host header is not a valid host',
    detail: 'No host is given for this request.',
    cause: 'The proxy rewrites Host to something that is not host[:port], or the client sent a bad one.',
    fixes: HOST_FIXES,
  }),
  'malformed-entry': (i) => ({
    code: 'malformed-entry',
    severity: 'warning',
    title: `${i.header} holds an entry that is not an IP address`,
    detail: `The walk stopped at ${q(String(i.extra.entry ?? ''))}; the client is the last hop that was verified (${i.extra.client ?? 'none'}).`,
    cause:
      'A trusted proxy wrote something other than an address (unknown, an obfuscated _name, a host name), or passed on garbage a client sent. ' +
      'Everything left of it cannot be checked, so it is not believed.',
    fixes: APPEND_FIXES,
  }),
  'malformed-peer': () => ({
    code: 'malformed-peer',
    severity: 'error',
    title: 'The socket peer is not an IP address',
    detail: 'No client IP can be given.',
    cause: 'The remote address given is not an IPv4 or IPv6 address.',
  }),
  'short-chain': (i) => ({
    code: 'short-chain',
    severity: 'warning',
    title: 'Fewer forwarding entries than TRUST_PROXY expects',
    detail: `TRUST_PROXY=${i.value} expects ${i.value} hop(s), but the request has fewer; the client is the left-most entry, which may be client-written.`,
    cause:
      'The hop count is higher than the number of proxies in front of the app, or this request bypassed one of them. ' +
      'Set TRUST_PROXY to the number of proxies, or better, to their addresses.',
    setting: `TRUST_PROXY=${shellValue(i.peerEntry)}   (the proxy's address; or the number of proxies in front)`,
  }),
  'hop-count-public-peer': (i) => ({
    code: 'hop-count-public-peer',
    severity: 'error',
    title: 'A public address is trusted as a proxy only because of the hop count',
    detail: `TRUST_PROXY=${i.value} trusts whoever connects; the socket peer ${i.peer} is a public address, so it may be a client that reached the app directly and wrote its own X-Forwarded-For.`,
    cause:
      'A hop count cannot tell a proxy from a client. If the app can be reached without the proxy (all interfaces, a published port), any client can forge its IP. ' +
      'Name the proxy instead, or make the app listen on 127.0.0.1 only.',
    setting: `TRUST_PROXY=${shellValue(i.peerEntry)}   (if ${i.peer} really is your proxy; otherwise name your proxy's address)`,
  }),
  'no-forwarded-for': (i) => ({
    code: 'no-forwarded-for',
    severity: 'info',
    title: `The trusted peer sent no ${i.header}`,
    detail: `The socket peer ${i.peer ?? '(Unix socket)'} is trusted but named no client, so the client is the peer itself.`,
    cause: `Right for a client connecting directly from a trusted address. If a proxy is in front, it does not set ${i.header}, and every client is recorded as the proxy.`,
    fixes: APPEND_FIXES,
  }),
  'header-not-appended': (i) => ({
    code: 'header-not-appended',
    severity: 'error',
    title: `A forged ${i.header} was believed: the proxy does not append to it`,
    detail: `The page sent ${i.header}: ${i.extra.marker}; the app received ${q(i.headerText)} and took ${i.extra.marker} as the client.`,
    cause:
      `The proxy passes the client's ${i.header} through without appending the address it sees (nginx does this unless told otherwise), ` +
      'so any client can write its own audit IP. (With no proxy in front, the app trusts this client\'s own address: make it listen on 127.0.0.1.)',
    fixes: APPEND_FIXES,
  }),
  'forged-entry-believed': (i) => ({
    code: 'forged-entry-believed',
    severity: 'error',
    title: `A forged ${i.header} entry was believed: TRUST_PROXY trusts too many hops`,
    detail: `The page sent ${i.header}: ${i.extra.marker}; the proxy appended correctly (${q(i.headerText)}), but TRUST_PROXY=${i.value} trusted the hop the client wrote.`,
    cause: 'The hop count is larger than the number of proxies, or the trusted ranges include the client\'s own address.',
    setting:
      typeof i.extra.suggestHops === 'number' && i.extra.suggestHops > 0
        ? `TRUST_PROXY=${i.extra.suggestHops}, or better the proxies' addresses`
        : "TRUST_PROXY=<the proxies' addresses only>",
  }),
  'header-replaced': (i) => ({
    code: 'header-replaced',
    severity: 'info',
    title: `The proxy replaces ${i.header} instead of appending to it`,
    detail: `The page sent ${i.header}: ${i.extra.marker}; the app received ${q(i.headerText)}.`,
    cause: 'Safe with a single proxy. With a chain of proxies (a CDN or load balancer in front), the earlier hops are lost.',
    fixes: APPEND_FIXES,
  }),
  'http-behind-https': (i) => ({
    code: 'http-behind-https',
    severity: 'error',
    title: 'The public URL is HTTPS, but the app sees HTTP',
    detail: `The browser is at ${i.extra.publicUrl}, and the app resolved the protocol as http.`,
    cause:
      'The proxy terminates TLS and does not send X-Forwarded-Proto, or TRUST_PROXY does not trust the proxy so the header is ignored. ' +
      'The app then redirects to http:// (redirect loops) and sets cookies without Secure.',
    fixes: PROTO_FIXES,
  }),
  'public-http': (i) => ({
    code: 'public-http',
    severity: 'warning',
    title: 'The site answered over plain HTTP instead of redirecting to HTTPS',
    detail: `The browser is at ${i.extra.publicUrl}.`,
    cause: 'The proxy serves the app on port 80 instead of redirecting to HTTPS: passwords and session cookies travel in clear text.',
    fixes: REDIRECT_FIXES,
  }),
  'websocket-upgrade-stripped': () => ({
    code: 'websocket-upgrade-stripped',
    severity: 'error',
    title: 'The WebSocket request arrived as plain HTTP: the proxy drops the upgrade',
    detail: 'The app received the WebSocket request without Upgrade: websocket, so it could not switch protocols.',
    cause: 'The proxy does not forward the Upgrade and Connection headers (nginx needs them set explicitly, over HTTP/1.1). Terminal sessions cannot open.',
    fixes: WEBSOCKET_FIXES,
  }),
  'websocket-not-reached': () => ({
    code: 'websocket-not-reached',
    severity: 'error',
    title: 'The WebSocket request never reached the app',
    detail: 'The browser could not open the WebSocket, and the app saw no request for it.',
    cause: 'The proxy refused the upgrade or routes the path somewhere else.',
    fixes: WEBSOCKET_FIXES,
  }),
  'trust-function-error': () => ({
    code: 'trust-function-error',
    severity: 'error',
    title: 'The trust function threw',
    detail: 'That hop was treated as untrusted.',
    cause: 'A custom trust function failed on this address.',
  }),
}

/** A finding that does not depend on a request's addresses (the WebSocket ones). */
export function standaloneFinding(code: 'websocket-upgrade-stripped' | 'websocket-not-reached'): Finding {
  return FINDINGS[code]({ peer: undefined, peerEntry: '', value: '', valueWithPeer: '', header: '', headerText: undefined, extra: {} })
}
