/**
 * A workerd worker that runs the conformance vectors through the built package: POST the vectors
 * as JSON, get the results as JSON (see conformance.mjs). Bundled by the test with esbuild, as
 * wrangler would bundle a Worker.
 */
import * as lib from '../../dist/index.js'
import * as web from '../../dist/web.js'
import { runConformance } from './conformance.mjs'

export default {
  async fetch(request) {
    return Response.json(runConformance(lib, web, await request.json()))
  },
}
