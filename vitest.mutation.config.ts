/**
 * The vitest configuration for mutation runs (`npm run mutation`, see stryker.config.json and
 * docs/mutation-testing.md): only the fast unit tests of the core. No proxies, command line,
 * browser or network tests: each mutant is tested by the tests that cover it, hundreds of times
 * per run, on a shared 2-core machine.
 */
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export const MUTATION_TESTS = [
  'test/ip.test.ts',
  'test/policy-table.test.ts',
  'test/resolve-client.test.ts',
  'test/properties.test.ts',
  'test/config-edges.test.ts',
  'test/host-validation.test.ts',
  'test/core-details.test.ts',
  'test/messages.test.ts',
  'test/vectors-proxy-addr.test.ts',
  'test/vectors-realclientip.test.ts',
  'test/adapters-audit.test.ts',
  'test/trace.test.ts',
  'test/mutation-kills-xff.test.ts',
  'test/mutation-kills-forwarded.test.ts',
  'test/mutation-kills-requests.test.ts',
  'test/mutation-kills-policy.test.ts',
  'test/mutation-kills-edge.test.ts',
  'test/mutation-kills-proxy-protocol.test.ts',
  'test/mutation-kills-ip.test.ts',
  'test/mutation-kills-readers.test.ts',
  'test/mutation-kills-parse.test.ts',
  'test/mutation-kills-ranges.test.ts',
  'test/mutation-kills-resolve.test.ts',
  'test/mutation-kills-entries.test.ts',
  'test/presets.test.ts',
  'test/walk-state.test.ts',
  'test/resolve-client-ip-header.test.ts',
  'test/forwarded-fast-path.test.ts',
]

/**
 * Stryker runs the tests in a copy of the project (.stryker-tmp/sandbox-*), from where the shared
 * conformance vectors beside the clone are not found by their relative path: look upwards.
 */
function vectorsDir(): string | undefined {
  if (process.env.TRUST_PROXY_VECTORS) return process.env.TRUST_PROXY_VECTORS
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let k = 0; k < 6; k++) {
    for (const candidate of [join(dir, 'test', 'vectors'), join(dir, '..', 'shared', 'vectors')]) {
      if (existsSync(candidate)) return resolve(candidate)
    }
    dir = dirname(dir)
  }
  return undefined
}

const vectors = vectorsDir()

export default defineConfig({
  test: {
    include: MUTATION_TESTS,
    testTimeout: 60_000,
    // Keep the test files' modules loaded between mutants: Stryker switches mutants at run time
    // (the mutated code checks which mutant is active), so re-importing fast-check, proxy-addr and
    // every test file for each of thousands of mutants would only cost time. (Static mutants, in
    // code run at import, then never become active: stryker.config.json ignores them, ignoreStatic.)
    isolate: false,
    // The properties run with a fixed seed and fewer runs, so that a mutant's verdict repeats.
    setupFiles: ['test/support/mutation-setup.ts'],
    env: { FC_RUNS: process.env.FC_RUNS ?? '8', ...(vectors ? { TRUST_PROXY_VECTORS: vectors } : {}) },
  },
})
