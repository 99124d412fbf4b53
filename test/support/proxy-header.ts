/**
 * A small PROXY protocol v2 encoder for the tests, for what the oracle (proxy-protocol-js) does
 * not write: TLVs, CRC32C, and deliberately broken lengths. Addresses come in as text; the
 * oracle checks the address block it writes against ours in test/proxy-protocol-decode.test.ts.
 */
import net from 'node:net'
import { crc32c, V2_SIGNATURE } from '../../src/proxy-protocol.js'

export interface V2Spec {
  command?: 'local' | 'proxy'
  /** Default: from the source address. */
  family?: 'ipv4' | 'ipv6' | 'unix' | 'unspec'
  transport?: 'stream' | 'dgram' | 'unspec'
  source?: string
  destination?: string
  sourcePort?: number
  destinationPort?: number
  tlvs?: { type: number; value: Uint8Array | string }[]
  /** Append a CRC32C TLV computed over the header (or this wrong value). */
  crc?: boolean | number
}

function ipBytes(a: string, v6: boolean): number[] {
  if (!v6) return a.split('.').map(Number)
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined]
  const parse = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(':'))
  const left = parse(head)
  const right = parse(tail)
  const toGroups = (parts: string[]): number[] =>
    parts.flatMap((p) => (p.includes('.') ? ((q) => [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!])(p.split('.').map(Number)) : [parseInt(p, 16)]))
  const l = toGroups(left)
  const r = toGroups(right)
  const groups = tail === undefined ? l : [...l, ...new Array(8 - l.length - r.length).fill(0), ...r]
  return groups.flatMap((g) => [g >> 8, g & 255])
}

export function tlv(type: number, value: Uint8Array | string): Uint8Array {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value
  return Buffer.concat([Buffer.from([type, v.length >> 8, v.length & 255]), v])
}

export function encodeV2(spec: V2Spec): Buffer {
  const command = spec.command ?? 'proxy'
  const src = spec.source ?? '203.0.113.7'
  const dst = spec.destination ?? (net.isIPv6(src) ? '2001:db8::1' : '10.0.0.1')
  const family = spec.family ?? (net.isIPv6(src) ? 'ipv6' : 'ipv4')
  const fam = { unspec: 0, ipv4: 1, ipv6: 2, unix: 3 }[family]
  const proto = { unspec: 0, stream: 1, dgram: 2 }[spec.transport ?? 'stream']
  let block: number[] = []
  if (family === 'ipv4' || family === 'ipv6') {
    const v6 = family === 'ipv6'
    const port = (p: number): number[] => [p >> 8, p & 255]
    block = [...ipBytes(src, v6), ...ipBytes(dst, v6), ...port(spec.sourcePort ?? 5555), ...port(spec.destinationPort ?? 443)]
  } else if (family === 'unix') {
    block = new Array(216).fill(0)
    Buffer.from('/run/client.sock').forEach((b, i) => (block[i] = b))
  }
  const tlvs = (spec.tlvs ?? []).map((t) => tlv(t.type, t.value))
  if (spec.crc !== undefined && spec.crc !== false) tlvs.push(tlv(0x03, new Uint8Array(4)))
  const body = Buffer.concat([Buffer.from(block), ...tlvs])
  const out = Buffer.concat([Buffer.from(V2_SIGNATURE), Buffer.from([0x20 | (command === 'proxy' ? 1 : 0), (fam << 4) | proto, body.length >> 8, body.length & 255]), body])
  if (spec.crc !== undefined && spec.crc !== false) {
    const value = typeof spec.crc === 'number' ? spec.crc : crc32c(out, out.length)
    out.writeUInt32BE(value >>> 0, out.length - 4)
  }
  return out
}

export function encodeV1(source: string, destination: string, sourcePort = 5555, destinationPort = 443): string {
  return `PROXY ${net.isIPv6(source) ? 'TCP6' : 'TCP4'} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`
}

/** The SSL TLV's value: client bits, verify (0 = verified), then sub-TLVs. */
export function sslValue(client: number, verify: number, subs: { type: number; value: string }[]): Uint8Array {
  const head = Buffer.alloc(5)
  head[0] = client
  head.writeUInt32BE(verify, 1)
  return Buffer.concat([head, ...subs.map((s) => tlv(s.type, s.value))])
}
