/**
 * WebSocket frames written and read by hand, for tests that must send what no well-behaved
 * client library would (unmasked frames, floods of fragments, bad close codes).
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'

/** A client frame: masked unless told otherwise, FIN unless told otherwise, any payload length. */
export function clientFrame(opcode: number, payload: Buffer, opts: { fin?: boolean; mask?: boolean } = {}): Buffer {
  const fin = opts.fin ?? true
  const mask = opts.mask ?? true
  const n = payload.length
  const head = Buffer.alloc(n < 126 ? 2 : n < 65536 ? 4 : 10)
  head[0] = (fin ? 0x80 : 0) | opcode
  const m = mask ? 0x80 : 0
  if (n < 126) head[1] = m | n
  else if (n < 65536) {
    head[1] = m | 126
    head.writeUInt16BE(n, 2)
  } else {
    head[1] = m | 127
    head.writeBigUInt64BE(BigInt(n), 2)
  }
  if (!mask) return Buffer.concat([head, payload])
  const key = randomBytes(4)
  const body = Buffer.from(payload)
  for (let i = 0; i < n; i++) body[i]! ^= key[i & 3]!
  return Buffer.concat([head, key, body])
}

export interface ServerFrame {
  opcode: number
  payload: Buffer
}

/** Server frames (unmasked) from a socket, collected as they arrive, starting with `initial`. */
export function serverFrames(sock: Socket, initial: Buffer) {
  let buf = initial
  const got: ServerFrame[] = []
  const parse = () => {
    for (;;) {
      if (buf.length < 2) return
      let len = buf[1]! & 0x7f
      let off = 2
      if (len === 126) {
        if (buf.length < 4) return
        len = buf.readUInt16BE(2)
        off = 4
      } else if (len === 127) {
        if (buf.length < 10) return
        len = Number(buf.readBigUInt64BE(2))
        off = 10
      }
      if (buf.length < off + len) return
      got.push({ opcode: buf[0]! & 0x0f, payload: buf.subarray(off, off + len) })
      buf = buf.subarray(off + len)
    }
  }
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d])
    parse()
  })
  parse()
  const ended = new Promise<void>((r) => sock.once('close', () => r()))
  /** The first frame that matches, waited for up to `ms`. */
  const wait = (pred: (f: ServerFrame) => boolean, ms = 5000) =>
    new Promise<ServerFrame>((resolve, reject) => {
      const t0 = Date.now()
      const poll = () => {
        const f = got.find(pred)
        if (f) return resolve(f)
        if (Date.now() - t0 > ms) return reject(new Error('no frame; got opcodes ' + got.map((g) => g.opcode).join(',')))
        setTimeout(poll, 20)
      }
      poll()
    })
  return { got, wait, ended }
}
