/**
 * A copy of the repository as a clone has it (tracked files, plus new files not yet committed
 * when a developer runs the tests), in a fresh temporary folder with no sibling folders. The
 * tests that need "a fresh clone" use it; node_modules is linked from this checkout rather than
 * installed again, to keep them to seconds and offline.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

export const IS_CHECKOUT = (() => {
  try {
    return git(['rev-parse', '--is-inside-work-tree']).trim() === 'true'
  } catch {
    return false
  }
})()

/** The files a clone of this checkout would hold, relative to the root. */
export function repositoryFiles(): string[] {
  const listed = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean)
  return listed.filter((f) => existsSync(join(ROOT, f)))
}

/**
 * Copies the repository into `<new temp folder>/clone` and returns both paths. `link` names
 * folders of this checkout to link into the copy (`node_modules`, `dist`).
 */
export function copyRepository(link: string[] = ['node_modules']): { parent: string; clone: string } {
  const parent = mkdtempSync(join(tmpdir(), 'trust-proxy-clone-'))
  const clone = join(parent, 'clone')
  for (const file of repositoryFiles()) {
    mkdirSync(dirname(join(clone, file)), { recursive: true })
    copyFileSync(join(ROOT, file), join(clone, file))
  }
  for (const name of link) symlinkSync(join(ROOT, name), join(clone, name), 'dir')
  return { parent, clone }
}

/** The environment for a child process that must not see this checkout's overrides or colours. */
export function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra }
  delete env.TRUST_PROXY_VECTORS
  delete env.FORCE_COLOR
  delete env.TRUST_PROXY
  return env
}
