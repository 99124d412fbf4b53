import { defineConfig } from 'tsup'

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
      koa: 'src/adapters/koa.ts',
      h3: 'src/adapters/h3.ts',
      nestjs: 'src/adapters/nestjs.ts',
      elysia: 'src/adapters/elysia.ts',
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
    // The command line: one ESM file with a shebang.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node18',
    platform: 'node',
  },
])
