/**
 * The mutation-testing set-up (`npm run mutation`, docs/mutation-testing.md) stays runnable: it
 * mutates the core files that exist, and its vitest configuration runs only fast core unit tests
 * (no proxies, command line, browser or network), each of which exists. Stryker itself is not
 * run here: it takes tens of minutes on two cores.
 */
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MUTATION_TESTS } from '../vitest.mutation.config.js'

const root = new URL('../', import.meta.url)
const config = JSON.parse(readFileSync(new URL('stryker.config.json', root), 'utf8')) as {
  mutate: string[]
  testRunner: string
  coverageAnalysis: string
  concurrency: number
  vitest: { configFile: string }
}
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string> }

describe('npm run mutation', () => {
  it('is Stryker with its vitest runner, per-test coverage and at most two workers', () => {
    expect(pkg.scripts.mutation).toBe('stryker run')
    expect(pkg.devDependencies['@stryker-mutator/core']).toBe(pkg.devDependencies['@stryker-mutator/vitest-runner'])
    expect(config.testRunner).toBe('vitest')
    expect(config.coverageAnalysis).toBe('perTest')
    expect(config.concurrency).toBeLessThanOrEqual(2)
    expect(config.vitest.configFile).toBe('vitest.mutation.config.ts')
  })

  it('mutates exactly the core files, all of which exist', () => {
    for (const f of config.mutate) expect(existsSync(new URL(f, root)), f).toBe(true)
    for (const f of ['src/ip.ts', 'src/ranges.ts', 'src/policy.ts', 'src/headers.ts', 'src/resolve.ts', 'src/audit.ts']) expect(config.mutate).toContain(f)
    expect(config.mutate.filter((f) => /adapters|cli|compat/.test(f))).toEqual([])
  })

  it('runs only fast core unit tests, each of which exists', () => {
    for (const f of MUTATION_TESTS) {
      expect(existsSync(new URL(f, root)), f).toBe(true)
      expect(f).not.toMatch(/proxies|cli-|browser|adapters-(express|fastify|node|web|migration)|consumer|readme/)
    }
  })
})
