/**
 * The four proxies and their configs: what each can do, the values each template is rendered
 * with in the tests, and the values the README shows. One template per proxy, under
 * `test/proxies/templates/`, serves both, so the documented config is the tested one.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderTemplate, type TemplateValues } from './template.js'

export type ProxyKind = 'nginx' | 'apache' | 'caddy' | 'haproxy'
export type XffMode = 'append' | 'passthrough' | 'replace'

/** The public name the test clients ask for; the certificate is made for it. */
export const PUBLIC_HOST = 'infram.test'

export const TEMPLATE_DIR = fileURLToPath(new URL('../proxies/templates/', import.meta.url))

export interface ProxySpec {
  kind: ProxyKind
  /** The executable, and the Debian package that provides it. */
  binary: string
  aptPackage: string
  template: string
  /**
   * The loopback address the proxy connects to an IPv4 app from, or null when it cannot choose
   * one (then the kernel picks 127.0.0.1).
   */
  sourceV4: string | null
  /** What the shipped (correct) config does with a client's X-Forwarded-For. */
  defaultXff: XffMode
  /** The X-Forwarded-For behaviours the template can produce. */
  xffModes: readonly XffMode[]
  /**
   * The loopback addresses its HTTP-to-HTTPS redirect listens on. Caddy 2.6 opens its automatic
   * redirect listener on only one of several bind addresses (here ::1).
   */
  redirectListens: readonly string[]
  /** Whether its redirect keeps a non-default HTTPS port (Caddy 2.6's automatic one drops it). */
  redirectKeepsPort: boolean
  /**
   * Whether X-Forwarded-Host is a line in its config that can be forgotten (nginx, HAProxy), or
   * something the proxy always sets itself (Apache's mod_proxy, Caddy).
   */
  canOmitForwardedHost: boolean
}

export const PROXIES: Record<ProxyKind, ProxySpec> = {
  nginx: {
    kind: 'nginx',
    binary: 'nginx',
    aptPackage: 'nginx',
    template: 'nginx.conf.tmpl',
    sourceV4: '127.0.0.9',
    defaultXff: 'append',
    xffModes: ['append', 'passthrough', 'replace'],
    redirectListens: ['127.0.0.1', '::1'],
    redirectKeepsPort: true,
    canOmitForwardedHost: true,
  },
  haproxy: {
    kind: 'haproxy',
    binary: 'haproxy',
    aptPackage: 'haproxy',
    template: 'haproxy.cfg.tmpl',
    sourceV4: '127.0.0.10',
    defaultXff: 'append',
    xffModes: ['append', 'passthrough', 'replace'],
    redirectListens: ['127.0.0.1', '::1'],
    redirectKeepsPort: true,
    canOmitForwardedHost: true,
  },
  apache: {
    kind: 'apache',
    binary: 'apache2',
    aptPackage: 'apache2',
    template: 'apache.conf.tmpl',
    sourceV4: '127.0.0.11',
    defaultXff: 'append',
    xffModes: ['append', 'passthrough', 'replace'],
    redirectListens: ['127.0.0.1', '::1'],
    redirectKeepsPort: true,
    canOmitForwardedHost: false,
  },
  caddy: {
    kind: 'caddy',
    binary: 'caddy',
    aptPackage: 'caddy',
    template: 'Caddyfile.tmpl',
    sourceV4: null,
    defaultXff: 'replace',
    xffModes: ['replace', 'passthrough'],
    redirectListens: ['::1'],
    redirectKeepsPort: false,
    canOmitForwardedHost: false,
  },
}


export interface Certificate {
  cert: string
  key: string
  /** Certificate and key in one file, as HAProxy wants it. */
  pem: string
  /** The certificate's PEM text, for the clients' `ca`. */
  ca: string
}


export interface Upstream {
  host: string
  port: number
}

export function isV6(host: string): boolean {
  return host.includes(':')
}

/** `host:port`, bracketing IPv6 (every proxy here accepts that form). */
export function hostPort(host: string, port: number): string {
  return isV6(host) ? `[${host}]:${port}` : `${host}:${port}`
}

/** The values the README's configs are rendered with. */
export const DOC_VALUES: Record<ProxyKind, TemplateValues> = {
  nginx: {
    harness: false,
    server_name: 'infram.example.com',
    http_v4: '80',
    http_v6: '[::]:80',
    https_v4: '443',
    https_v6: '[::]:443',
    https_suffix: '',
    cert: '/etc/letsencrypt/live/infram.example.com/fullchain.pem',
    key: '/etc/letsencrypt/live/infram.example.com/privkey.pem',
    upstream: '127.0.0.1:6989',
    source: '127.0.0.9',
    xff_append: true,
    xff_passthrough: false,
    xff_replace: false,
    forward_proto: true,
    forward_host: true,
  },
  haproxy: {
    harness: false,
    http_v4: ':80',
    http_v6: ':::80 v6only',
    https_v4: ':443',
    https_v6: ':::443 v6only',
    https_suffix: '',
    pem: '/etc/haproxy/certs/infram.example.com.pem',
    upstream: '127.0.0.1:6989',
    source: '127.0.0.10',
    xff_append: true,
    xff_passthrough: false,
    xff_replace: false,
    forward_proto: true,
    forward_host: true,
    upstream_tls: false,
  },
  apache: {
    harness: false,
    server_name: 'infram.example.com',
    http_port: '80',
    https_port: '443',
    https_suffix: '',
    cert: '/etc/letsencrypt/live/infram.example.com/fullchain.pem',
    key: '/etc/letsencrypt/live/infram.example.com/privkey.pem',
    upstream: '127.0.0.1:6989',
    source: '127.0.0.11',
    xff_append: true,
    xff_passthrough: false,
    xff_replace: false,
    forward_proto: true,
  },
  caddy: {
    harness: false,
    server_name: 'infram.example.com',
    upstream: '127.0.0.1:6989',
    xff_append: false,
    xff_passthrough: false,
    xff_replace: true,
    forward_proto: true,
  },
}

export function readTemplate(kind: ProxyKind): string {
  return readFileSync(join(TEMPLATE_DIR, PROXIES[kind].template), 'utf8')
}

/** The config the README shows for `kind`, optionally with some values changed. */
export function renderForDocs(kind: ProxyKind, overrides: TemplateValues = {}): string {
  return renderTemplate(readTemplate(kind), { ...DOC_VALUES[kind], ...overrides }, PROXIES[kind].template)
}

/**
 * HAProxy in front of nginx, as the README shows it: HAProxy's server line speaks TLS to nginx
 * (listening on 127.0.0.1:8443) and checks nginx's certificate.
 */
export const DOC_CHAIN_HAPROXY: TemplateValues = {
  upstream: '127.0.0.1:8443',
  upstream_tls: true,
  ca: '/etc/haproxy/certs/infram-nginx.crt',
  upstream_sni: 'infram.example.com',
}

export interface ProxyOptions {
  upstream: Upstream
  cert: Certificate
  /** What to do with the client's X-Forwarded-For; the proxy's correct behaviour by default. */
  xff?: XffMode
  /** False renders the config without X-Forwarded-Proto (a documented mistake). */
  forwardProto?: boolean
  /** False leaves out the X-Forwarded-Host line, where the config has one (nginx, HAProxy). */
  forwardHost?: boolean
  /** Speak TLS to the upstream (HAProxy in front of nginx), verifying it against `cert`. */
  upstreamTls?: boolean
}

/** The address the proxy's connections to `upstream` come from, as the app will see it. */
export function expectedSource(kind: ProxyKind, upstream: Upstream): string {
  if (isV6(upstream.host)) return '::1'
  return PROXIES[kind].sourceV4 ?? '127.0.0.1'
}

export function harnessValues(kind: ProxyKind, o: ProxyOptions, dir: string, httpPort: number, httpsPort: number): TemplateValues {
  const spec = PROXIES[kind]
  const xff = o.xff ?? spec.defaultXff
  if (!spec.xffModes.includes(xff)) throw new Error(`${kind} cannot be configured with xff=${xff}`)
  if (o.upstreamTls && kind !== 'haproxy') throw new Error('upstreamTls is only templated for haproxy')
  if (o.forwardHost === false && !spec.canOmitForwardedHost) throw new Error(`${kind} always sets X-Forwarded-Host`)
  const v6 = isV6(o.upstream.host)
  const common: TemplateValues = {
    harness: true,
    dir,
    server_name: PUBLIC_HOST,
    https_suffix: `:${httpsPort}`,
    xff_append: xff === 'append',
    xff_passthrough: xff === 'passthrough',
    xff_replace: xff === 'replace',
    forward_proto: o.forwardProto !== false,
    forward_host: o.forwardHost !== false,
    source: expectedSource(kind, o.upstream),
    cert: o.cert.cert,
    key: o.cert.key,
    upstream: hostPort(o.upstream.host, o.upstream.port),
  }
  switch (kind) {
    case 'nginx':
      return {
        ...common,
        http_v4: `127.0.0.1:${httpPort}`,
        http_v6: `[::1]:${httpPort}`,
        https_v4: `127.0.0.1:${httpsPort}`,
        https_v6: `[::1]:${httpsPort}`,
      }
    case 'haproxy':
      return {
        ...common,
        http_v4: `127.0.0.1:${httpPort}`,
        http_v6: `[::1]:${httpPort}`,
        https_v4: `127.0.0.1:${httpsPort}`,
        https_v6: `[::1]:${httpsPort}`,
        pem: o.cert.pem,
        // A bare `::1` on a server line reads as address `:` and port 1: bracket it.
        source: v6 ? `[${expectedSource(kind, o.upstream)}]` : expectedSource(kind, o.upstream),
        upstream_tls: o.upstreamTls === true,
        ca: o.cert.cert,
        upstream_sni: PUBLIC_HOST,
      }
    case 'apache':
      return { ...common, http_port: String(httpPort), https_port: String(httpsPort) }
    case 'caddy':
      return { ...common, http_port: String(httpPort), https_port: String(httpsPort) }
  }
}

export function proxyCommand(kind: ProxyKind, config: string, dir: string): { args: string[]; env?: NodeJS.ProcessEnv } {
  switch (kind) {
    case 'nginx':
      // -e: nginx opens its error log before reading the config; keep it out of /var/log.
      return { args: ['-e', join(dir, 'error.log'), '-p', dir, '-c', config] }
    case 'apache':
      return { args: ['-f', config, '-DFOREGROUND'] }
    case 'haproxy':
      return { args: ['-db', '-f', config] }
    case 'caddy':
      return {
        args: ['run', '--config', config, '--adapter', 'caddyfile'],
        env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
      }
  }
}

