/**
 * Argument handling shared by the subcommands: `node:util` parseArgs in strict mode, with every
 * mistake turned into a {@link UsageError} (exit code 2), so that a script can tell "you called
 * me wrong" (2) from "the TRUST_PROXY value is invalid" (1).
 */

/** Exit codes, the same for every subcommand. */
export const EXIT_OK = 0
export const EXIT_INVALID = 1
export const EXIT_USAGE = 2

export class UsageError extends Error {
  /** The subcommand whose help the message points to. */
  readonly command: string | undefined
  constructor(message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

/** `--help` / `-h`, on every command. */
export const HELP_OPTION = { type: 'boolean', short: 'h' } as const

/**
 * Runs a `parseArgs` call (strict, in the caller) and turns its errors (unknown option, missing
 * value) into a UsageError for `command`.
 */
export function parsing<T>(command: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), command)
  }
}

/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(line + '\n')
}

/** Writes a line to stderr. */
export function err(line = ''): void {
  process.stderr.write(line + '\n')
}
