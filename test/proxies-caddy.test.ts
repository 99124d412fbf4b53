/**
 * Issue 5: the library behind a real caddy (Debian package `caddy`), with TLS, WebSockets and
 * the documented mistakes. The checks are shared by every proxy: see test/support/proxy-suite.ts.
 */
import { describeProxy } from './support/proxy-suite.js'

describeProxy('caddy')
