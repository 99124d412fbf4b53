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
    // The path keeps its suffix so that no other plugin (tsup's own CSS handling) takes the file.
    build.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path), namespace: 'raw-text' }))
    build.onLoad({ filter: /\?raw$/, namespace: 'raw-text' }, (args) => {
      const file = args.path.slice(0, -'?raw'.length)
      return { contents: readFileSync(file, 'utf8'), loader: 'text', watchFiles: [file] }
    })
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
      opentelemetry: 'src/adapters/opentelemetry.ts',
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
