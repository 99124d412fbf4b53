// Load before the app, so that the instrumentation patches `http` first:
//   TRUST_PROXY=loopback node --require ./tracing.cjs server.js
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
const { ConsoleSpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base')
const { registerInstrumentations } = require('@opentelemetry/instrumentation')
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http')
const { parseTrustProxy } = require('@infram/trust-proxy')
const { otelHttpHooks } = require('@infram/trust-proxy/opentelemetry')

const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] })
provider.register()

registerInstrumentations({
  instrumentations: [
    // client.address becomes the client TRUST_PROXY's walk decided, not the left-most
    // X-Forwarded-For entry that any client can write.
    new HttpInstrumentation({ ...otelHttpHooks(parseTrustProxy(process.env.TRUST_PROXY)) }),
  ],
})
