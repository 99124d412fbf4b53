/**
 * `trust-proxy resolve`: one request, described on the command line, walked hop by hop.
 *
 * For answering "what would the app record for this request?" without deploying anything,
 * for example with a line copied from a proxy's access log.
 */
import { parseArgs } from 'node:util'
import { TrustProxyError, parseTrustProxy } from '../index.js'
import { type Analysis, type Headers, analyse, displayName } from './diagnose.js'
import { describePolicy } from './explain.js'
import { type Finding, shellValue } from './fixes.js'
import { type Style, printable } from './style.js'
import { EXIT_INVALID, EXIT_OK, HELP_OPTION, UsageError, err, out, parsing } from './usage.js'
import { edgeHeaderWithoutRanges } from './edge-walk.js'

export const RESOLVE_HELP = `Usage: trust-proxy resolve --remote ADDR [--trust-proxy V] [-H 'Name: value']... [--tls] [--json]

Resolves one request as the app would: walks from the socket peer leftwards through the
forwarding header, says for each hop whether it is trusted and why, then prints the client,
protocol, host and anomalies, with their likely causes and fixes.

Options:
  --remote ADDR        the socket peer address (req.socket.remoteAddress); "unix" for a
                       Unix domain socket peer (no address)
  --trust-proxy V      the TRUST_PROXY value (default: the TRUST_PROXY environment variable)
  -H, --header 'Name: value'
                       a request header; repeat for more. Repeated names are joined with
                       ", " as Node does (Host: the first one wins)
  --ip-header NAME     the header that carries the client address: x-forwarded-for
                       (default), forwarded, or a single-address header such as x-real-ip
  --tls                the connection to the app is TLS (protocol https without a proxy)
  --json               print the result as JSON (stable keys, for scripts)
  -h, --help           show this help

Exit status: 0 resolved (anomalies do not change it), 1 invalid TRUST_PROXY, 2 usage error.

Examples:
  trust-proxy resolve --trust-proxy 1 --remote 127.0.0.1 -H 'X-Forwarded-For: 203.0.113.7'
  trust-proxy resolve --trust-proxy loopback --remote 198.51.100.2 \\
      -H 'X-Forwarded-For: 10.0.0.1' --json
`

/** The `--ip-header` option: a header name, lower-cased. */
export function ipHeaderOption(v: string | undefined, command: string): string {
  const header = (v ?? 'x-forwarded-for').toLowerCase()
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(header) || header === 'host') {
    throw new UsageError(`--ip-header must name a forwarding header, got ${JSON.stringify(v)}`, command)
  }
  if (edgeHeaderWithoutRanges(header)) throw new UsageError(`--ip-header ${header} needs the ranges of the edge that writes it, which the command line cannot take; in the app: { header: '${header}', edge: '...' }`, command)
  return header
}

/** Headers Node keeps the first copy of (the rest are dropped), of those that matter here. */
const FIRST_WINS = new Set(['host', 'user-agent', 'authorization', 'content-type', 'content-length', 'referer'])

/** The text of `s` from `start`, without leading and trailing spaces and tabs (one linear pass). */
function trimOWS(s: string, start: number): string {
  let a = start
  let b = s.length
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--
  return s.slice(a, b)
}

/** `Name: value` lines -> a Node-style header object. */
export function headerObject(lines: string[]): Headers {
  const headers: Headers = Object.create(null)
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = colon < 0 ? '' : line.slice(0, colon).trim().toLowerCase()
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) {
      throw new UsageError(`-H takes 'Name: value', got ${JSON.stringify(line)}`, 'resolve')
    }
    const value = trimOWS(line, colon + 1)
    const prev = headers[name]
    if (prev === undefined) headers[name] = value
    else if (!FIRST_WINS.has(name)) headers[name] = `${prev as string}, ${value}`
  }
  return headers
}

export function runResolve(args: string[], style: Style): number {
  const { values, positionals } = parsing('resolve', () =>
    parseArgs({
      args,
      options: {
        remote: { type: 'string' },
        'trust-proxy': { type: 'string' },
        header: { type: 'string', short: 'H', multiple: true },
        'ip-header': { type: 'string' },
        tls: { type: 'boolean' },
        json: { type: 'boolean' },
        help: HELP_OPTION,
      },
      allowPositionals: true,
      strict: true,
    }),
  )
  if (values.help) {
    out(RESOLVE_HELP)
    return EXIT_OK
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, 'resolve')
  if (values.remote === undefined) throw new UsageError('--remote ADDR is required (the socket peer address)', 'resolve')
  const header = ipHeaderOption(values['ip-header'], 'resolve')
  const headers = headerObject(values.header ?? [])
  const value = values['trust-proxy'] ?? process.env.TRUST_PROXY

  let policy
  try {
    policy = parseTrustProxy(value)
  } catch (e) {
    if (!(e instanceof TrustProxyError)) throw e
    if (values.json) {
      out(JSON.stringify({ valid: false, input: value ?? null, error: { code: e.code, reason: e.reason, entry: e.entry, position: e.position, message: e.message } }))
    } else {
      err(`${style.red('invalid')} TRUST_PROXY: ${e.message}`)
    }
    return EXIT_INVALID
  }

  const remote = values.remote === 'unix' ? undefined : values.remote
  const encrypted = values.tls === true
  const a = analyse(policy, { remoteAddress: remote, headers, encrypted }, header)
  if (values.json) {
    out(
      JSON.stringify({
        trustProxy: { ...policy.toJSON(), meaning: describePolicy(policy, displayName(header)) },
        request: { remote: remote ?? null, tls: encrypted, ipHeader: header, headers: { ...headers } },
        walk: a.walk,
        resolved: a.resolved,
        findings: a.findings,
      }),
    )
    return EXIT_OK
  }
  printText(policy.toString(), policy.kind, describePolicy(policy, displayName(header)), a, style)
  return EXIT_OK
}

function printText(value: string, kind: string, meaning: string, a: Analysis, style: Style): void {
  out(`${style.bold('TRUST_PROXY')}=${shellValue(value)} (${kind})`)
  out(`  ${meaning}`)
  out()
  out(style.bold('Walk (from the socket peer leftwards)'))
  for (const s of a.walk) {
    const where = s.from === 'socket' ? 'socket peer' : displayName(s.from)
    const addr = s.address ?? (s.raw === null ? '(no address)' : printable(JSON.stringify(s.raw)))
    const label = (s.role === 'malformed' ? 'bad' : s.role).padEnd(7)
    const mark =
      s.role === 'client' ? style.green(label) : s.role === 'proxy' ? style.cyan(label) : s.role === 'malformed' ? style.red(label) : style.dim(label)
    out(`  hop ${String(s.hop).padEnd(2)} ${mark}  ${addr.padEnd(24)} ${style.dim(where)}`)
    out(`         ${printable(s.reason)}`)
  }
  const r = a.resolved
  out()
  out(`${style.bold('client')}    ${r.client === null ? style.red('(none)') : style.green(r.client)}  ${style.dim(`(from ${r.source}, ${r.trustedHops} trusted hop${r.trustedHops === 1 ? '' : 's'})`)}`)
  out(`${style.bold('protocol')}  ${r.protocol}`)
  out(`${style.bold('host')}      ${r.host === null ? '(none)' : printable(r.host)}`)
  out(`${style.bold('anomalies')} ${r.anomalies.length === 0 ? 'none' : r.anomalies.join(', ')}`)
  for (const f of a.findings) printFinding(f, style)
}

export function printFinding(f: Finding, style: Style): void {
  const sev = f.severity === 'error' ? style.red('error') : f.severity === 'warning' ? style.yellow('warning') : style.cyan('info')
  out()
  out(`${sev} [${f.code}] ${style.bold(f.title)}`)
  out(`  seen:  ${printable(f.detail)}`)
  out(`  cause: ${f.cause}`)
  if (f.setting !== undefined) out(`  fix:   ${printable(f.setting)}`)
  if (f.fixes !== undefined) {
    for (const [proxy, fix] of Object.entries(f.fixes)) {
      out(`  ${proxy}:`)
      for (const line of fix.split('\n')) out(`      ${line}`)
    }
  }
}
