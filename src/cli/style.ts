/**
 * Terminal colour, only where a person is reading.
 *
 * Scripts read this command's output (and `--json` exists for them), so escape codes must never
 * reach a pipe or a file: colour is on only when stdout is a TTY, and `NO_COLOR` (any non-empty
 * value, https://no-color.org) turns it off. `FORCE_COLOR` (non-empty, not `0`) turns it on, for
 * CI logs that render colour.
 */

export interface Style {
  readonly enabled: boolean
  bold(s: string): string
  dim(s: string): string
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
  cyan(s: string): string
}

export function colorEnabled(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true
  return stream.isTTY === true
}

export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s)
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  }
}

/**
 * Text from a request or an argument, made safe to print: control characters (an escape
 * sequence in a forged header could rewrite the operator's terminal) are shown as `\xNN`.
 */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))
}
