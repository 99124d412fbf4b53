/**
 * Reads the conformance vectors: data transcribed from the peers' test suites, kept in
 * `test/vectors/` with their sources (see its README). `TRUST_PROXY_VECTORS` points the tests at
 * another copy of the same files, for example a newer transcription being reviewed.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const VECTORS_DIR = process.env.TRUST_PROXY_VECTORS || resolve(dirname(fileURLToPath(import.meta.url)), '..', 'vectors')

export function loadVectors<T = Record<string, unknown>>(file: string): T[] {
  const path = join(VECTORS_DIR, file)
  if (!existsSync(path)) {
    throw new Error(`conformance vectors not found at ${path}` + (process.env.TRUST_PROXY_VECTORS ? ' (TRUST_PROXY_VECTORS is set)' : ''))
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T[]
}
