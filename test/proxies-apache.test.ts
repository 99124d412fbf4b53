/**
 * Issue 5: the library behind a real apache (Debian package `apache2`), with TLS, WebSockets and
 * the documented mistakes. The checks are shared by every proxy: see test/support/proxy-suite.ts.
 */
import { describeProxy } from './support/proxy-suite.js'

describeProxy('apache')
