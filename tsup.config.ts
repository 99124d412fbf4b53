import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Plugin } from 'esbuild'
import { defineConfig } from 'tsup'

/**
 * `import text from './file?raw'`: the file's contents as a string, read at build time (the same
 * suffix Vite and Vitest understand). The diagnostic page's HTML, CSS and browser script are real
 * files under src/cli/page/, checked as what they are, and bundled into the command as text.
 */
const rawText: Plugin = {
  name: 'raw-text',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)), namespace: 'raw-text' }))
    build.onLoad({ filter: /.*/, namespace: 'raw-text' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text', watchFiles: [args.path] }))
  },
}

export default defineConfig([
  {
    // The library: every entry point in ESM and CommonJS, with declarations for both.
    entry: {
      index: 'src/index.ts',
      express: 'src/adapters/express.ts',
      fastify: 'src/adapters/fastify.ts',
      node: 'src/adapters/node.ts',
      web: 'src/adapters/web.ts',
      'proxy-addr': 'src/compat/proxy-addr.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node18',
    platform: 'node',
    treeshake: true,
  },
  {
    // The command line: one ESM file with a shebang. `ws` (the diagnostic server's WebSockets) is
    // the package's one runtime dependency and the command's alone: it stays an import, installed
    // from npm and updated with it, never copied into the bundle (test/serve-deps.test.ts checks).
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node18',
    platform: 'node',
    external: ['ws'],
    esbuildPlugins: [rawText],
  },
])
