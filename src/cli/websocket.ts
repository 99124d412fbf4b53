/**
 * The server side of RFC 6455, as much as the diagnostic page needs: the opening handshake,
 * text frames both ways, ping/pong, and the closing handshake.
 *
 * Written here rather than taken from `ws` because the command must run with the package's
 * runtime dependencies only, and it has none. It only ever talks to the diagnostic page, so it
 * accepts small messages (64 KiB) and refuses everything RFC 6455 says a server must refuse
 * (unmasked or reserved-bit frames, fragmented or oversized control frames, bad UTF-8): a
 * misbehaving client is disconnected, never allowed to throw or to buffer without bound.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const MAX_MESSAGE = 64 * 1024
/** How long a close handshake may take before the socket is simply destroyed. */
const CLOSE_TIMEOUT_MS = 2000

const OP_CONT = 0x0
const OP_TEXT = 0x1
const OP_BINARY = 0x2
const OP_CLOSE = 0x8
const OP_PING = 0x9
const OP_PONG = 0xa

function tokens(v: string | string[] | undefined): string[] {
  const s = typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : ''
  return s
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
}

/** Why an upgrade request is not a WebSocket opening handshake we accept; undefined if it is. */
export function handshakeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'a WebSocket handshake is a GET request'
  if (!tokens(req.headers.upgrade).includes('websocket')) return 'Upgrade: websocket is missing'
  if (!tokens(req.headers.connection).includes('upgrade')) return 'Connection: Upgrade is missing'
  if (req.headers['sec-websocket-version'] !== '13') return 'only Sec-WebSocket-Version 13 is supported'
  const key = req.headers['sec-websocket-key']
  if (typeof key !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) return 'Sec-WebSocket-Key is not a 16-byte base64 nonce'
  return undefined
}

/** Sec-WebSocket-Accept for a client's key (RFC 6455 section 4.2.2). */
export function acceptValue(key: string): string {
  return createHash('sha1').update(key.trim() + GUID).digest('base64')
}

/** Refuses an upgrade with a plain HTTP response and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number, text: string, reason: string): void {
  const body = reason + '\n'
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

export interface WebSocketEvents {
  onText?(text: string): void
  onPong?(payload: Buffer): void
  /** Called once, when the TCP connection is gone. `code` is the peer's close code, or 1006. */
  onClose?(code: number, reason: string): void
}

function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10)
  head[0] = 0x80 | opcode
  if (n < 126) head[1] = n
  else if (n < 65536) {
    head[1] = 126
    head.writeUInt16BE(n, 2)
  } else {
    head[1] = 127
    head.writeUInt32BE(Math.floor(n / 2 ** 32), 2)
    head.writeUInt32BE(n >>> 0, 6)
  }
  return Buffer.concat([head, payload])
}

function closePayload(code: number, reason: string): Buffer {
  const r = Buffer.from(reason, 'utf8').subarray(0, 123)
  const b = Buffer.alloc(2 + r.length)
  b.writeUInt16BE(code, 0)
  r.copy(b, 2)
  return b
}

/** One accepted WebSocket connection. */
export class WebSocketConnection {
  private buf: Buffer = Buffer.alloc(0)
  private fragments: Buffer[] = []
  private fragmentLength = 0
  private fragmentOpcode = 0
  private closeSent = false
  private closed = false
  private peerCode = 1006
  private peerReason = ''
  private closeTimer: NodeJS.Timeout | undefined
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
    private readonly events: WebSocketEvents,
  ) {
    const s = socket as Duplex & { setNoDelay?(v: boolean): void; setTimeout?(ms: number): void }
    s.setNoDelay?.(true)
    s.setTimeout?.(0)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.finish())
    socket.on('end', () => socket.end())
    if (head.length > 0) this.receive(head)
  }

  /** Completes the handshake on `socket` and returns the connection. */
  static accept(req: IncomingMessage, socket: Duplex, head: Buffer, events: WebSocketEvents): WebSocketConnection {
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptValue(req.headers['sec-websocket-key'] as string)}\r\n\r\n`,
    )
    return new WebSocketConnection(socket, head, events)
  }

  get isOpen(): boolean {
    return !this.closeSent && !this.closed
  }

  sendText(text: string): void {
    if (this.isOpen) this.socket.write(frame(OP_TEXT, Buffer.from(text, 'utf8')))
  }

  ping(payload = ''): void {
    if (this.isOpen) this.socket.write(frame(OP_PING, Buffer.from(payload, 'utf8').subarray(0, 125)))
  }

  /** Starts the closing handshake; the socket is destroyed if the peer does not answer. */
  close(code = 1000, reason = ''): void {
    if (this.closed) return
    if (!this.closeSent) {
      this.closeSent = true
      this.socket.write(frame(OP_CLOSE, closePayload(code, reason)))
    }
    this.closeTimer ??= setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS)
    this.closeTimer.unref?.()
  }

  private fail(code: number, reason: string): void {
    this.buf = Buffer.alloc(0)
    this.close(code, reason)
    this.socket.end()
  }

  private finish(): void {
    if (this.closed) return
    this.closed = true
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer)
    this.events.onClose?.(this.peerCode, this.peerReason)
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    while (this.buf.length >= 2 && !this.closed) {
      const b0 = this.buf[0]!
      const b1 = this.buf[1]!
      const fin = (b0 & 0x80) !== 0
      const opcode = b0 & 0x0f
      if ((b0 & 0x70) !== 0) return this.fail(1002, 'reserved bits set')
      if ((b1 & 0x80) === 0) return this.fail(1002, 'client frames must be masked')
      let len = b1 & 0x7f
      let off = 2
      if (len === 126) {
        if (this.buf.length < 4) return
        len = this.buf.readUInt16BE(2)
        off = 4
      } else if (len === 127) {
        if (this.buf.length < 10) return
        if (this.buf.readUInt32BE(2) !== 0) return this.fail(1009, 'message too big')
        len = this.buf.readUInt32BE(6)
        off = 10
      }
      if (len > MAX_MESSAGE) return this.fail(1009, 'message too big')
      if (this.buf.length < off + 4 + len) return
      const mask = this.buf.subarray(off, off + 4)
      const payload = Buffer.from(this.buf.subarray(off + 4, off + 4 + len))
      for (let k = 0; k < payload.length; k++) payload[k]! ^= mask[k & 3]!
      this.buf = this.buf.subarray(off + 4 + len)
      this.handle(fin, opcode, payload)
    }
  }

  private handle(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 0x8) {
      if (!fin || payload.length > 125) return this.fail(1002, 'bad control frame')
      if (opcode === OP_CLOSE) {
        if (payload.length === 1) return this.fail(1002, 'bad close frame')
        this.peerCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
        this.peerReason = payload.length > 2 ? payload.subarray(2).toString('utf8') : ''
        this.close(payload.length >= 2 ? this.peerCode : 1000)
        this.socket.end()
        return
      }
      if (opcode === OP_PING) {
        if (this.isOpen) this.socket.write(frame(OP_PONG, payload))
        return
      }
      if (opcode === OP_PONG) {
        this.events.onPong?.(payload)
        return
      }
      return this.fail(1002, 'unknown opcode')
    }
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.fragmentOpcode !== 0) return this.fail(1002, 'expected a continuation frame')
      if (fin) return this.deliver(opcode, payload)
      this.fragmentOpcode = opcode
      this.fragments = [payload]
      this.fragmentLength = payload.length
      return
    }
    if (opcode === OP_CONT) {
      if (this.fragmentOpcode === 0) return this.fail(1002, 'continuation without a message')
      this.fragmentLength += payload.length
      if (this.fragmentLength > MAX_MESSAGE) return this.fail(1009, 'message too big')
      this.fragments.push(payload)
      if (!fin) return
      const whole = Buffer.concat(this.fragments)
      const op = this.fragmentOpcode
      this.fragments = []
      this.fragmentOpcode = 0
      this.fragmentLength = 0
      return this.deliver(op, whole)
    }
    return this.fail(1002, 'unknown opcode')
  }

  private deliver(opcode: number, payload: Buffer): void {
    if (opcode !== OP_TEXT) return // binary messages mean nothing to the diagnostic page
    let text: string
    try {
      text = this.decoder.decode(payload)
    } catch {
      return this.fail(1007, 'invalid UTF-8')
    }
    this.events.onText?.(text)
  }
}
