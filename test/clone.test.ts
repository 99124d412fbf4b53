/**
 * A clone needs nothing beside it. The repository's files (what `git clone` gives: tracked files,
 * plus new ones not yet committed when run by a developer) are copied into an empty temporary
 * folder with no `shared/` or other sibling, and the tests that read the conformance vectors run
 * there. node_modules and dist/ are linked from this checkout rather than installed and built
 * again, to keep the test to a few seconds; what is checked is that no file outside the
 * repository is read.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const git = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** The files a clone of this checkout would hold. */
function repositoryFiles(): string[] {
  const listed = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean)
  return listed.filter((f) => existsSync(join(root, f)))
}

const isCheckout = (() => {
  try {
    return git(['rev-parse', '--is-inside-work-tree']).trim() === 'true'
  } catch {
    return false
  }
})()

const VECTOR_TESTS = ['test/vectors-proxy-addr.test.ts', 'test/vectors-realclientip.test.ts', 'test/compat-proxy-addr.test.ts']

let parent = ''
afterAll(() => {
  if (parent) rmSync(parent, { recursive: true, force: true })
})

describe('a clone with nothing beside it', () => {
  it('reads no file from outside the repository', () => {
    // The loader's own default is inside the clone; nothing else names a sibling folder.
    for (const file of repositoryFiles().filter((f) => /\.(ts|mts|mjs|cjs|js|json)$/.test(f) && f !== 'package-lock.json' && f !== 'test/clone.test.ts')) {
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/\.\.\/shared\b|\/work\/shared/)
    }
  })

  it.skipIf(!isCheckout && process.env.CI !== 'true')('runs the conformance-vector tests in a copy of the repository', () => {
    if (!isCheckout) throw new Error('not a git checkout: clone the repository to run this test')
    parent = mkdtempSync(join(tmpdir(), 'trust-proxy-clone-'))
    const clone = join(parent, 'clone')
    for (const file of repositoryFiles()) {
      mkdirSync(dirname(join(clone, file)), { recursive: true })
      copyFileSync(join(root, file), join(clone, file))
    }
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir')
    // `npm test` builds before the tests run; the build of this checkout stands in for it.
    symlinkSync(join(root, 'dist'), join(clone, 'dist'), 'dir')
    expect(existsSync(join(parent, 'shared'))).toBe(false)

    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
    delete env.TRUST_PROXY_VECTORS
    delete env.FORCE_COLOR
    const output = execFileSync(process.execPath, [join(clone, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...VECTOR_TESTS], {
      cwd: clone,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    })
    expect(output.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Test Files\s+3 passed \(3\)/)
    expect(output).not.toMatch(/failed/)
  }, 150_000)
})
