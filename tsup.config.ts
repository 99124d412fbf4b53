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

/**
 * The library's entry points: one line each, and one matching block in package.json `exports`
 * (`./name` with `import`/`require` conditions; test/consumer.test.ts checks that every entry
 * here is exported and installs).
 */
export const LIBRARY_ENTRIES = {
  index: 'src/index.ts',
  express: 'src/adapters/express.ts',
  fastify: 'src/adapters/fastify.ts',
  node: 'src/adapters/node.ts',
  web: 'src/adapters/web.ts',
  opentelemetry: 'src/adapters/opentelemetry.ts',
  'proxy-addr': 'src/compat/proxy-addr.ts',
  'proxy-protocol': 'src/adapters/proxy-protocol.ts',
  koa: 'src/adapters/koa.ts',
  h3: 'src/adapters/h3.ts',
  nestjs: 'src/adapters/nestjs.ts',
  elysia: 'src/adapters/elysia.ts',
}

export default defineConfig([
  {
    // Every entry point in ESM and CommonJS, with declarations for both. `splitting` in both
    // formats: the core is one shared chunk per format, so each format loads it once and
    // `instanceof TrustPolicy` holds between entry points of the same format. No source maps:
    // the output is unminified, readable JavaScript with the source's names (see
    // docs/development.md, "What the package ships").
    entry: LIBRARY_ENTRIES,
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    sourcemap: false,
    clean: true,
    target: 'node18',
    platform: 'node',
    treeshake: true,
  },
  {
    // The command line: one ESM file with a shebang. The footer marks a completely written file
    // (test/support/cli-run.ts waits for it while another test run rebuilds). `ws` (the diagnostic server's WebSockets) is
    // the package's one runtime dependency and the command's alone: it stays an import, installed
    // from npm and updated with it, never copied into the bundle (test/serve-deps.test.ts checks).
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: false,
    footer: { js: '// end of dist/cli.js' },
    target: 'node18',
    platform: 'node',
    external: ['ws'],
    esbuildPlugins: [rawText],
  },
])
