/**
 * Reads the shared conformance vectors. They live beside the clone (`../shared/vectors/`), both on
 * a developer's machine and in CI, and are never copied into the repository.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const VECTORS_DIR = process.env.TRUST_PROXY_VECTORS ?? join(root, '..', 'shared', 'vectors')

export function loadVectors<T = Record<string, unknown>>(file: string): T[] {
  const path = join(VECTORS_DIR, file)
  if (!existsSync(path)) {
    throw new Error(`conformance vectors not found at ${path}: the shared/ folder must sit beside the clone`)
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T[]
}
