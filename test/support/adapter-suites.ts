/**
 * The adapter test cases as suites any framework or runtime can run: every scenario of
 * adapters-net.ts (legitimate proxy, forging client, direct client, IPv6, hop counts) over HTTP
 * and, where there is one, WebSocket; and the bad-input requests over raw sockets. A suite gets
 * a `start(TRUST_PROXY)` that runs a real server and an assertion for what it answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCENARIOS, type Scenario, get, wsFirstMessage } from './adapters-net.js'
import { BAD_INPUT, checkNoHeaderText, rawRequest } from './bad-input.js'

export interface SuiteServer {
  port: number
  stop(): Promise<unknown> | unknown
  /** The server's output, shown when a request fails. */
  output?(): string
}

/** A ClientInfo as it arrives in JSON. */
export type InfoJson = { ip?: string | null; peer?: string | null; chain: (string | null)[]; trustedHops: number; protocol: string; host?: string | null; anomalies: string[] }

/** The scenario's expectations on a result. */
export function checkInfo(info: InfoJson, s: Scenario): void {
  expect(info.ip).toBe(s.expect.ip)
  expect(info.peer).toBe(s.from)
  expect(info.trustedHops).toBe(s.expect.trustedHops)
  expect(info.protocol).toBe(s.expect.protocol)
  expect(info.host).toBe(s.expect.host)
  for (const code of s.expect.anomalies ?? []) expect(info.anomalies).toContain(code)
  if (!s.headers['x-forwarded-for']) expect(info.anomalies).not.toContain('forwarded-by-untrusted-peer')
}

export function scenarioSuites(
  label: string,
  start: (value: string) => Promise<SuiteServer>,
  check: (body: any, s: Scenario, value: string) => void,
  options: { ws?: boolean } = {},
): void {
  for (const [value, scenarios] of Object.entries(SCENARIOS)) {
    describe(`${label}, TRUST_PROXY=${JSON.stringify(value)}`, () => {
      let server: SuiteServer | undefined
      beforeAll(async () => {
        server = await start(value)
      })
      afterAll(() => server?.stop())
      const explain = (e: Error) => {
        throw new Error(`${e.message}${server?.output ? `\n${server.output()}` : ''}`)
      }
      for (const s of scenarios) {
        it(`HTTP: ${s.name} (from ${s.from})`, async () => {
          check(await get({ port: server!.port, from: s.from, headers: s.headers }).catch(explain), s, value)
        })
        if (options.ws) {
          it(`WebSocket: ${s.name} (from ${s.from})`, async () => {
            check(await wsFirstMessage({ port: server!.port, from: s.from, headers: s.headers }).catch(explain), s, value)
          })
        }
      }
    })
  }
}

/** The bad-input requests, from the proxy's address, to a server started with `127.0.0.9/32`. */
export function badInputSuite(label: string, start: (value: string) => Promise<SuiteServer>, infoOf: (body: any) => InfoJson, also?: (body: any) => void): void {
  describe(`${label}: header shapes a client can send`, () => {
    let server: SuiteServer | undefined
    beforeAll(async () => {
      server = await start('127.0.0.9/32')
    })
    afterAll(() => server?.stop())
    for (const b of BAD_INPUT) {
      it(`${b.name}: no error, no header text`, async () => {
        const { status, body } = await rawRequest(server!.port, b.lines)
        expect(status, JSON.stringify(body)).toBe(200)
        checkNoHeaderText(infoOf(body))
        also?.(body)
      })
    }
  })
}
