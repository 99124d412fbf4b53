// Run by test/otel.test.ts in a child process: OpenTelemetry's HTTP instrumentation patches
// `http` through require hooks, so it must be registered before `http` is loaded.
//
//   node instrumented-server.cjs HOOKS TRUST_PROXY
//
// HOOKS is "ours" (the instrumentation gets otelHttpHooks(policy)) or "none" (the instrumentation
// as shipped). Sends the requests listed as JSON on stdin to itself, over loopback, and prints
// each server span's attributes as one JSON line.
'use strict'
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
const { InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base')
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http')
const { SpanKind } = require('@opentelemetry/api')
const { parseTrustProxy } = require('../../dist/index.cjs')
const { otelHttpHooks } = require('../../dist/opentelemetry.cjs')

const [hooks, trust] = process.argv.slice(2)
const exporter = new InMemorySpanExporter()
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
provider.register()
const instrumentation = new HttpInstrumentation(hooks === 'ours' ? otelHttpHooks(parseTrustProxy(trust)) : {})
instrumentation.setTracerProvider(provider)
instrumentation.enable()

const http = require('http')

async function main() {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const requests = JSON.parse(input)
  const server = http.createServer((req, res) => res.end('ok'))
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  for (const r of requests) {
    await new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, localAddress: r.from, headers: r.headers, agent: false }, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      req.on('error', reject)
    })
    // The server span ends when the response finishes; give the event loop a turn.
    await new Promise((r) => setTimeout(r, 20))
    const span = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER).pop()
    process.stdout.write(JSON.stringify(span ? span.attributes : null) + '\n')
    exporter.reset()
  }
  server.close()
  await provider.shutdown()
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
