/**
 * The commands the README and docs/development.md and docs/cli.md give for a clone work, on a
 * fresh copy of the repository with nothing beside it (test/readme.test.ts checks that every
 * command shown is listed here). node_modules is linked from this checkout in place of `npm ci`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { IS_CHECKOUT, ROOT, copyRepository, plainEnv } from './support/repo-copy.js'

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const ciRun = readFileSync(join(ROOT, '.ci', 'run'), 'utf8')

let copy: { parent: string; clone: string } | undefined
let child: ChildProcess | undefined
afterAll(() => {
  child?.kill()
  if (copy) rmSync(copy.parent, { recursive: true, force: true })
})

/** Runs `npm start` (on a free port: `-- --listen 127.0.0.1:0`) and returns what it printed up to its listening line. */
function npmStart(cwd: string): Promise<string> {
  return new Promise((done, fail) => {
    child = spawn('npm', ['start', '--', '--listen', '127.0.0.1:0'], { cwd, env: plainEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let out = ''
    const timer = setTimeout(() => fail(new Error(`no listening line after 120 s:\n${out}`)), 120_000)
    const onData = (c: Buffer) => {
      out += c
      if (/listening on/.test(out)) {
        clearTimeout(timer)
        done(out)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => fail(new Error(`npm start exited (${code}):\n${out}`)))
  })
}

describe.skipIf(!IS_CHECKOUT && process.env.CI !== 'true')('a fresh copy of the repository', () => {
  it("'npm ci && npm start', 'npm start': builds quietly, then serves; 'node dist/cli.js check 1' runs the build", async () => {
    copy = copyRepository(['node_modules'])
    const printed = await npmStart(copy.clone)
    const before = printed.slice(0, printed.search(/.*listening on/)).split('\n').filter((l) => l.trim() !== '')
    // Only npm's own two banner lines (`> @infram/trust-proxy@0.1.0 start`, `> tsup --silent ...`).
    expect(before.every((l) => l.startsWith('> ')), before.join('\n')).toBe(true)
    expect(before.length).toBeLessThanOrEqual(2)
    process.kill(-child!.pid!, 'SIGTERM')
    child = undefined

    // 'npm ci && npm run build' is what npm start just did (npm ci: node_modules is linked).
    const check = spawnSync(process.execPath, ['dist/cli.js', 'check', '1'], { cwd: copy.clone, env: plainEnv(), encoding: 'utf8' })
    expect(check.status).toBe(0)
    expect(check.stdout).toMatch(/^valid TRUST_PROXY="1"$/m)
    expect(manifest.scripts.build).toMatch(/^tsup --silent\b/)
  }, 180_000)
})

describe('the commands that cannot run inside a test', () => {
  it("'npm ci && npm test': the tests build first; .ci/run installs and runs the same command", () => {
    expect(manifest.scripts.test).toBe('npm run build && vitest run')
    expect(ciRun).toMatch(/^npm ci\b/m)
    expect(ciRun).toMatch(/^npm test\b/m)
  })

  it("'npm run mutation': Stryker with the repository's config, not part of CI", () => {
    expect(manifest.scripts.mutation).toBe('stryker run')
    expect(existsSync(join(ROOT, 'stryker.config.json'))).toBe(true)
    expect(ciRun).not.toMatch(/mutation|stryker/)
  })

  it("'npm run typecheck', 'npm run bench', 'bash .ci/run': the scripts exist and CI runs the type check", () => {
    expect(manifest.scripts.typecheck).toMatch(/^tsc --noEmit( && tsc --noEmit -p test\/nestjs)?$/)
    expect(manifest.scripts.bench).toMatch(/node bench\/run\.mjs$/)
    expect(ciRun).toMatch(/^npm run typecheck$/m)
    expect(ciRun.startsWith('#!/usr/bin/env bash')).toBe(true)
  })
})
