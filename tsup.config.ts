import { defineConfig } from 'tsup'

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
  'proxy-addr': 'src/compat/proxy-addr.ts',
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
    // (test/support/cli-run.ts waits for it while another test run rebuilds).
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: false,
    footer: { js: '// end of dist/cli.js' },
    target: 'node18',
    platform: 'node',
  },
])
