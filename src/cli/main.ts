#!/usr/bin/env node
/**
 * The `trust-proxy` command: check a TRUST_PROXY value, explain how a request resolves, and
 * serve a diagnostic page behind a real proxy.
 *
 * Exit codes are the same everywhere: 0 success, 1 an invalid TRUST_PROXY (or a server that
 * cannot start), 2 a usage error, so scripts can tell a bad value from a bad call.
 */
import { readFileSync } from 'node:fs'
import { CHECK_HELP, runCheck } from './check.js'
import { RESOLVE_HELP, runResolve } from './resolve.js'
import { SERVE_HELP, runServe } from './serve.js'
import { colorEnabled, makeStyle } from './style.js'
import { EXIT_OK, EXIT_USAGE, UsageError, err, out } from './usage.js'

const HELP = `Usage: trust-proxy <command> [options]

Commands:
  serve [--listen 127.0.0.1:6989] [--trust-proxy V]
        a diagnostic server to run in the app's place behind your proxy: open the site in a
        browser to see the client IP, protocol and host the app gets, what is wrong, and the
        fix for nginx, Apache, Caddy and Traefik; checks WebSockets too
  check [VALUE]
        what a TRUST_PROXY value means (default: $TRUST_PROXY); exit 1 when invalid
  resolve --remote ADDR [--trust-proxy V] [-H 'Name: value']...
        how one request resolves, hop by hop

Options:
  -h, --help     show help (also: trust-proxy <command> --help)
  -V, --version  show the version

Exit status: 0 success, 1 invalid TRUST_PROXY, 2 usage error.
`

const HELPS: Record<string, string> = { check: CHECK_HELP, resolve: RESOLVE_HELP, serve: SERVE_HELP }

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

async function main(argv: string[]): Promise<number> {
  const style = makeStyle(colorEnabled())
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'check':
        return runCheck(rest, style)
      case 'resolve':
        return runResolve(rest, style)
      case 'serve':
        return await runServe(rest, style)
      case 'help': {
        const topic = rest[0]
        if (topic !== undefined && !Object.prototype.hasOwnProperty.call(HELPS, topic)) {
          throw new UsageError(`unknown command ${JSON.stringify(topic)}`)
        }
        out(topic === undefined ? HELP : HELPS[topic])
        return EXIT_OK
      }
      case '-h':
      case '--help':
        out(HELP)
        return EXIT_OK
      case '-V':
      case '--version':
        out(version())
        return EXIT_OK
      case undefined:
        err(HELP)
        return EXIT_USAGE
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`trust-proxy${e.command === undefined ? '' : ' ' + e.command}: ${e.message}`)
      err(`Run "trust-proxy ${e.command === undefined ? '' : e.command + ' '}--help" for usage.`)
      return EXIT_USAGE
    }
    throw e
  }
}

// `trust-proxy check --json | head -c 0`: a reader that goes away is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw e
  })
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    err(`trust-proxy: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    process.exitCode = 70
  },
)
