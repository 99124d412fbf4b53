// The machine a benchmark ran on, for its results: every results table names the CPU.
import { readFileSync } from 'node:fs'
import os from 'node:os'

/** The CPU's model name, from /proc/cpuinfo where there is one. */
export function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (m) return m[1].trim()
  } catch {}
  return os.cpus()[0]?.model ?? 'unknown'
}
