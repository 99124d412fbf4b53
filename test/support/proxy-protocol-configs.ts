/**
 * The PROXY protocol senders' configs (HAProxy in TCP mode, nginx `stream`): one template each
 * under test/proxies/templates/, rendered with the harness's values by the end-to-end tests and
 * with the documentation's values for docs/proxy-protocol.md, so the page shows what was run.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TEMPLATE_DIR } from './proxy-configs.js'
import { renderTemplate, type TemplateValues } from './template.js'

export type Sender = 'haproxy' | 'nginx-stream'

export const SENDER_TEMPLATES: Record<Sender, string> = {
  haproxy: 'haproxy-proxy-protocol.cfg.tmpl',
  'nginx-stream': 'nginx-stream.conf.tmpl',
}

/** Where Debian's libnginx-mod-stream puts the module. */
export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so'

/** The values the docs page is rendered with: the balancer on the app's host, the app on 127.0.0.1:6989. */
export const SENDER_DOC_VALUES: Record<Sender, TemplateValues> = {
  haproxy: { harness: false, terminate_tls: false, health_check: false, listen: ':443', upstream: '127.0.0.1:6989', send_proxy: 'send-proxy-v2', source: '127.0.0.9' },
  'nginx-stream': { harness: false, listen: '443', upstream: '127.0.0.1:6989', source: '127.0.0.9' },
}

export function renderSender(sender: Sender, values: TemplateValues): string {
  const file = SENDER_TEMPLATES[sender]
  return renderTemplate(readFileSync(join(TEMPLATE_DIR, file), 'utf8'), values, file)
}

export function renderSenderForDocs(sender: Sender): string {
  return renderSender(sender, SENDER_DOC_VALUES[sender])
}
