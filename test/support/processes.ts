/**
 * Child processes that cannot outlive the tests, and free loopback ports for them.
 *
 * A proxy runs under a small shell that leads its own process group and holds the read end of a
 * pipe from this test process. stop() signals the group (so nginx workers and Apache children go
 * too) and waits until it is empty. If the test process dies without its afterAll (a killed
 * worker, a crash), the pipe closes and the shell takes the group down by itself. Only groups
 * this process started are ever signalled.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'

// ---------------------------------------------------------------------------------------------
// Ports

function tryListen(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(null))
    s.listen({ port, host, exclusive: true }, () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}

/** A TCP port free on both 127.0.0.1 and ::1 right now (the proxies listen on both). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await tryListen(0, '127.0.0.1')
    if (p !== null && (await tryListen(p, '::1')) !== null) return p
  }
  throw new Error('no free loopback port found')
}

export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port })
    const done = (ok: boolean): void => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(1000, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

// ---------------------------------------------------------------------------------------------
// Guarded processes

export const REAPER = [
  'exec 3<&0',
  '"$0" "$@" </dev/null &',
  'proxy=$!',
  // The watcher: EOF on the pipe means the test process is gone.
  '(read _ignored <&3; kill -TERM -$$) &',
  'watcher=$!',
  // On TERM (from stop() or from the watcher) pass it on and keep waiting, so that the proxy
  // is reaped here and the group is empty when this shell exits.
  `trap 'kill -TERM "$proxy" 2>/dev/null' TERM`,
  'wait "$proxy"',
  'status=$?',
  'while kill -0 "$proxy" 2>/dev/null; do wait "$proxy"; status=$?; done',
  'kill "$watcher" 2>/dev/null',
  'wait "$watcher"',
  'exit "$status"',
].join('\n')

/** Every process group this test process started and has not stopped. */
const live = new Set<ChildProcess>()

function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (child.pid === undefined) return false
  try {
    process.kill(-child.pid, signal)
    return true
  } catch {
    return false
  }
}

// A last resort for an orderly exit that skipped afterAll; the reaper covers the rest.
process.on('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL')
})

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(t)
      resolve(true)
    })
  })
}

async function waitGroupGone(child: ChildProcess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (signalGroup(child, 0)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 25))
  }
  return true
}

export interface GuardedProcess {
  /** The reaper shell's pid, which is also the process group id. */
  pid: number | undefined
  /** The last 16 kB of its stdout and stderr. */
  output(): string
  /** Resolves once every `[host, port]` accepts connections; throws if it exits first. */
  waitListening(listeners: readonly [string, number][], ms: number): Promise<void>
  /** SIGTERM to the group, SIGKILL after 3 s; resolves when the whole group is gone. */
  stop(): Promise<void>
}

export function spawnGuarded(binary: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): GuardedProcess {
  const child = spawn('/bin/sh', ['-c', REAPER, binary, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  live.add(child)
  let output = ''
  const keep = (chunk: Buffer | string): void => {
    output = (output + chunk.toString()).slice(-16_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  child.once('error', (e) => keep(`spawn error: ${e.message}\n`))

  let stopped: Promise<void> | undefined
  return {
    pid: child.pid,
    output: () => output,

    async waitListening(listeners, ms) {
      const deadline = Date.now() + ms
      const pending = listeners.slice()
      while (pending.length > 0) {
        if (exited(child)) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening`)
        if (Date.now() > deadline) throw new Error(`not listening on ${JSON.stringify(pending)} after ${ms} ms`)
        const [host, port] = pending[0]!
        if (await canConnect(host, port)) pending.shift()
        else await new Promise((r) => setTimeout(r, 50))
      }
    },

    stop() {
      stopped ??= (async () => {
        signalGroup(child, 'SIGTERM')
        if (!(await waitGroupGone(child, 3000))) {
          signalGroup(child, 'SIGKILL')
          await waitGroupGone(child, 2000)
        }
        await waitForExit(child, 2000)
        live.delete(child)
      })()
      return stopped
    },
  }
}
