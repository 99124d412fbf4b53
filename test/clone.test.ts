/**
 * A clone needs nothing beside it. The repository's files are copied into an empty temporary
 * folder with no `shared/` or other sibling (see support/repo-copy.ts), and the tests that read
 * the conformance vectors run there. node_modules and dist/ are linked from this checkout
 * (`npm test` builds before the tests run); what is checked is that no file outside the
 * repository is read.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { IS_CHECKOUT, ROOT, copyRepository, plainEnv, repositoryFiles } from './support/repo-copy.js'

const VECTOR_TESTS = ['test/vectors-proxy-addr.test.ts', 'test/vectors-realclientip.test.ts', 'test/compat-proxy-addr.test.ts']

let parent = ''
afterAll(() => {
  if (parent) rmSync(parent, { recursive: true, force: true })
})

describe('a clone with nothing beside it', () => {
  it.skipIf(!IS_CHECKOUT)('names no folder outside the repository', () => {
    for (const file of repositoryFiles().filter((f) => /\.(ts|mts|mjs|cjs|js|json|md)$/.test(f) && f !== 'package-lock.json' && f !== 'test/clone.test.ts')) {
      expect(readFileSync(join(ROOT, file), 'utf8'), file).not.toMatch(/\.\.\/shared\b|\/work\/shared|shared\/ folder/)
    }
  })

  it.skipIf(!IS_CHECKOUT && process.env.CI !== 'true')('runs the conformance-vector tests in a copy of the repository', () => {
    if (!IS_CHECKOUT) throw new Error('not a git checkout: clone the repository to run this test')
    const copy = copyRepository(['node_modules', 'dist'])
    parent = copy.parent
    expect(existsSync(join(parent, 'shared'))).toBe(false)
    const output = execFileSync(process.execPath, [join(copy.clone, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...VECTOR_TESTS], {
      cwd: copy.clone,
      env: plainEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    })
    expect(output.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Test Files\s+3 passed \(3\)/)
    expect(output).not.toMatch(/failed/)
  }, 150_000)
})
