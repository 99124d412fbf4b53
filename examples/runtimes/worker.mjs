// A Cloudflare Worker (workerd). A Worker has no socket: its peer is the platform. Cloudflare's
// edge accepted the client's connection and states that address in CF-Connecting-IP, replacing
// whatever the client sent, so that address plays the socket peer. TRUST_PROXY then only names
// proxies of your own that clients come through before Cloudflare (default: none).
import { parseTrustProxy } from '@infram/trust-proxy'
import { resolveWebRequest } from '@infram/trust-proxy/web'

let policy

export default {
  fetch(request, env) {
    policy ??= parseTrustProxy(env.TRUST_PROXY) // env exists only once a request arrives
    const peer = request.headers.get('cf-connecting-ip')
    const client = resolveWebRequest(policy, request, peer, { encrypted: new URL(request.url).protocol === 'https:' })
    return Response.json({ peer, client })
  },
}
