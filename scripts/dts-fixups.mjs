// Fix-ups of the declarations tsup writes, run after it by `npm run build`.
//
// 1. dist/proxy-addr.d.cts: at run time the CommonJS build sets `module.exports` to the proxyaddr
//    function itself (as `require('proxy-addr')` returns it), but tsup declares a default export,
//    so TypeScript CommonJS code would see `.default`. The declarations are rewritten in the
//    `export =` form that matches the run time, self-contained: a .d.cts that imported the ESM
//    declarations would need `resolution-mode` under node16 (TS1541).
// 2. dist/fastify.d.{ts,cts}: the FastifyRequest augmentation of src/adapters/fastify-request.d.ts
//    is appended (tsup cannot emit an augmentation of a module it does not import).
// 3. Every dist/*.d.ts and *.d.cts: each import or re-export of a sibling declaration file gets
//    Deno's `// @ts-types` directive naming that file. tsup writes the specifiers the TypeScript
//    way, `./proxy-connection-X.js` for the chunk proxy-connection-X.d.ts, which no .js file
//    backs; TypeScript maps `.js` to `.d.ts`, and so does Deno inside node_modules (an `npm:` or
//    bare specifier), but Deno's strict resolver does not for files it treats as local: the
//    package linked with a `file:` dependency, `npm link` or a workspace, or its declarations
//    imported by path (`deno check` then failed with TS2307 unless given
//    `--unstable-sloppy-imports`; test/runtimes.test.ts checks each way without it). The
//    specifiers stay as they are, since `./x.d.ts` ones break TypeScript (TS2846 unless the
//    import is `import type`, and these re-export values); TypeScript reads the directive as a
//    comment.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'

const dist = (f) => new URL(`../dist/${f}`, import.meta.url)

// 1. proxy-addr: rename the types tsup declared (`ProxyAddr...`) so that a namespace merged with
//    the function can re-export them under their own names.
const exported = ['ProxyAddr', 'ProxyAddrRequest', 'ProxyAddrTrust', 'ProxyAddrTrustFunction']
let cts = readFileSync(dist('proxy-addr.d.cts'), 'utf8')
const exportLine = /^export \{[^}]*\bapi as default\b[^}]*\};\s*$/m
if (!exportLine.test(cts) || !/^declare const api: ProxyAddr;$/m.test(cts)) {
  throw new Error('dist/proxy-addr.d.cts is not in the shape dts-fixups.mjs expects: update the script')
}
cts = cts.replace(exportLine, '')
for (const name of exported) cts = cts.replace(new RegExp(`\\b${name}\\b`, 'g'), `_${name}`)
cts = cts.replace(/^declare const api: _ProxyAddr;$/m, [
  '/**',
  ' * proxy-addr 2.0.8\'s API: the address of the client, the first address from the socket leftwards',
  ' * through X-Forwarded-For that `trust` does not trust (or the left-most one when all are trusted).',
  ' */',
  'declare function api(req: _ProxyAddrRequest, trust: _ProxyAddrTrust): string;',
  'declare namespace api {',
  '    const all: _ProxyAddr["all"];',
  '    const compile: _ProxyAddr["compile"];',
  ...exported.map((n) => `    type ${n} = _${n};`),
  '}',
  'export = api;',
].join('\n'))
writeFileSync(dist('proxy-addr.d.cts'), cts)

// 2. fastify: the augmentation, from its marker line on.
const source = readFileSync(new URL('../src/adapters/fastify-request.d.ts', import.meta.url), 'utf8')
const block = source.slice(source.indexOf('// augmentation:\n') + '// augmentation:\n'.length)
for (const f of ['fastify.d.ts', 'fastify.d.cts']) {
  const text = readFileSync(dist(f), 'utf8')
  const imports = text.split('\n').filter((l) => l.startsWith('import ')).join('\n')
  if (!/\bClientInfo\b/.test(imports)) throw new Error(`dist/${f} does not import ClientInfo: update dts-fixups.mjs`)
  writeFileSync(dist(f), `${text.trimEnd()}\n\n${block}`)
}

// 3. Deno's `@ts-types` before each relative import, re-export and side-effect import (one line
//    each, as tsup writes them). A relative specifier in any other form (outside comments), or one
//    with no declaration file beside it, fails the build rather than ship declarations that Deno
//    cannot follow.
const declarationOf = { '.js': '.d.ts', '.cjs': '.d.cts' }
const directive = /^\/\/ @ts-types="[^"]+"$/
const files = readdirSync(dist(''))
for (const f of files.filter((n) => /\.d\.c?ts$/.test(n))) {
  const ext = f.endsWith('.d.cts') ? '.cjs' : '.js'
  const lines = readFileSync(dist(f), 'utf8').split('\n')
  const out = []
  for (const [i, line] of lines.entries()) {
    const statement = /^(?:import|export) (?:.* from )?'(\.\/[^']*)';$/.exec(line)
    if (statement) {
      const specifier = statement[1]
      const target = specifier.endsWith(ext) ? `${specifier.slice(0, -ext.length)}${declarationOf[ext]}` : ''
      if (!target || !files.includes(target.slice(2))) {
        throw new Error(`dist/${f}:${i + 1}: '${specifier}' is not a sibling ${ext} with a ${declarationOf[ext]} beside it: update dts-fixups.mjs`)
      }
      if (!directive.test(out.at(-1) ?? '')) out.push(`// @ts-types="${target}"`)
    } else if (!/^\s*(?:\*|\/\*|\/\/)/.test(line) && /^\s*(?:import|export)\b.*['"]\.\.?\/|\b(?:import|require)\(\s*['"]\.\.?\//.test(line)) {
      throw new Error(`dist/${f}:${i + 1}: a relative specifier in a form dts-fixups.mjs does not annotate: ${line}`)
    }
    out.push(line)
  }
  writeFileSync(dist(f), out.join('\n'))
}
