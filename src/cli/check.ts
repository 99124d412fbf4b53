/**
 * `trust-proxy check [VALUE]`: what a TRUST_PROXY value means, before it goes live.
 *
 * Exit 0 when the value is valid, 1 when it is not (with the core's message naming the bad
 * entry), 2 on a usage error; a deploy script can run it as a gate.
 */
import { parseArgs } from 'node:util'
import { TrustProxyError, parseTrustProxy } from '../index.js'
import { describePolicy } from './explain.js'
import { shellValue } from './fixes.js'
import { type Style, printable } from './style.js'
import { namedPresets, presetJson, presetLines } from './presets.js'
import { presetInfo } from '../index.js'
import { EXIT_INVALID, EXIT_OK, HELP_OPTION, UsageError, err, out, parsing } from './usage.js'

export const CHECK_HELP = `Usage: trust-proxy check [VALUE] [--json]

Says what a TRUST_PROXY value means: in plain words, its canonical form, and its warnings.
VALUE defaults to the TRUST_PROXY environment variable (unset means: trust no proxy).
Quote a list so that the shell passes it as one value.

Options:
  --json      print the result as JSON (stable keys, for scripts)
  --presets   list the provider presets (cloudflare, ...): size, date, age and source
  -h, --help  show this help

Exit status: 0 the value is valid, 1 it is invalid, 2 usage error.

Examples:
  trust-proxy check 1
  trust-proxy check 'loopback, 172.18.0.0/16'
  trust-proxy check 'loopback, cloudflare'
  trust-proxy check --presets
  TRUST_PROXY=true trust-proxy check --json
  trust-proxy check -- -1
`

/** A value that starts with `-` and a digit is a (bad) hop count, not an option. */
function protectNegativeNumbers(args: string[]): string[] {
  const isNumber = (a: string) => /^-[0-9.]/.test(a)
  const numbers = args.filter(isNumber)
  if (numbers.length === 0) return args
  const rest = args.filter((a) => !isNumber(a))
  return rest.includes('--') ? [...rest, ...numbers] : [...rest, '--', ...numbers]
}

export function runCheck(args: string[], style: Style): number {
  const { values, positionals } = parsing('check', () =>
    parseArgs({
      args: protectNegativeNumbers(args),
      options: { json: { type: 'boolean' }, presets: { type: 'boolean' }, help: HELP_OPTION },
      allowPositionals: true,
      strict: true,
    }),
  )
  if (values.help) {
    out(CHECK_HELP)
    return EXIT_OK
  }
  if (values.presets && positionals.length === 0) {
    out(values.json ? JSON.stringify({ presets: presetJson(presetInfo()) }) : presetLines(presetInfo(), style).join('\n'))
    return EXIT_OK
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `check takes one value, got ${positionals.length}; quote a list: trust-proxy check '${positionals.join(', ')}'`,
      'check',
    )
  }
  const fromArg = positionals.length === 1
  const input = fromArg ? positionals[0] : process.env.TRUST_PROXY
  const label =
    input === undefined ? 'TRUST_PROXY is unset' : `TRUST_PROXY=${printable(JSON.stringify(input))}${fromArg ? '' : ' (from the environment)'}`

  let policy
  try {
    policy = parseTrustProxy(input)
  } catch (e) {
    if (!(e instanceof TrustProxyError)) throw e
    if (values.json) {
      out(
        JSON.stringify({
          valid: false,
          input: input ?? null,
          error: { code: e.code, reason: e.reason, entry: e.entry, position: e.position, message: e.message },
        }),
      )
    } else {
      err(`${style.red(style.bold('invalid'))} ${label}`)
      if (input !== undefined && !/[\r\n]/.test(input) && input.length <= 200) {
        err(`  ${printable(input)}`)
        err(`  ${' '.repeat(printable(input.slice(0, e.position)).length)}${style.red('^'.repeat(Math.max(1, printable(e.entry).length)))}`)
      }
      err(`  ${e.message}`)
    }
    return EXIT_INVALID
  }

  const meaning = describePolicy(policy)
  if (values.json) {
    out(JSON.stringify({ valid: true, input: input ?? null, policy: policy.toJSON(), meaning, presets: presetJson(namedPresets(policy)) }))
    return EXIT_OK
  }
  out(`${style.green(style.bold('valid'))} ${label}`)
  out(`  policy:    ${policy.kind}`)
  out(`  meaning:   ${meaning}`)
  out(`  canonical: TRUST_PROXY=${shellValue(policy.toString())}`)
  for (const line of presetLines(namedPresets(policy), style)) out(line)
  if (policy.warnings.length === 0) out(`  warnings:  none`)
  for (const w of policy.warnings) {
    out(`  ${style.yellow('warning')} [${w.code}]: ${printable(w.message)}`)
  }
  return EXIT_OK
}
