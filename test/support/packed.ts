/**
 * Installing the packed tarball into a consumer project, offline.
 *
 * `npm install --offline pkg.tgz` must resolve the package's runtime dependencies (`ws`) by
 * range, which needs the registry's package document for each; `npm ci` caches tarballs but
 * not those documents, so on a clean machine the offline install failed (ENOTCACHED). The
 * runtime dependencies are installed beside the tarball from this checkout's node_modules
 * (the versions package-lock.json pinned), which satisfies their ranges without the registry.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './repo-copy.js'

const runtimeDependencies = (): string[] =>
  Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {})

/** `npm install`s the tarball (and its runtime dependencies, from this checkout) into `dir`. */
export function installPacked(dir: string, tarball: string, extra: string[] = []): void {
  const deps = runtimeDependencies().map((d) => join(ROOT, 'node_modules', d))
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...extra, tarball, ...deps], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180_000,
  })
}
