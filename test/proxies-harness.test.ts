/**
 * Issue 5: the harness's own guarantees. A proxy must never outlive the test that started it,
 * whether the test stops it or dies; a proxy that cannot start must say why, quickly.
 */
import { spawn } from 'node:child_process'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePort, REAPER, spawnGuarded } from './support/processes.js'

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

describe('guarded processes', () => {
  it('stop() ends the process and everything it forked', async () => {
    // A parent with a child of its own, like nginx's master and worker.
    const p = spawnGuarded('/bin/sh', ['-c', 'sleep 30 & sleep 30; wait'], { cwd: '/' })
    expect(await waitUntil(() => groupAlive(p.pid!), 2000)).toBe(true)
    await p.stop()
    expect(groupAlive(p.pid!)).toBe(false)
  })

  it('the process group goes down when the test process that owns it disappears', async () => {
    // Closing the pipe is what the kernel does when the owning test process dies.
    const shell = spawn('/bin/sh', ['-c', REAPER, 'sleep', '30'], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    const pgid = shell.pid!
    try {
      expect(await waitUntil(() => groupAlive(pgid), 2000)).toBe(true)
      shell.stdin!.end()
      expect(await waitUntil(() => !groupAlive(pgid), 3000)).toBe(true)
    } finally {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL')
    }
  })

  it('reports a process that exits before listening, with its output', async () => {
    const p = spawnGuarded('/bin/sh', ['-c', 'echo "bad config line 3" >&2; exit 1'], { cwd: '/' })
    const port = await freePort()
    const t = Date.now()
    await expect(p.waitListening([['127.0.0.1', port]], 10_000)).rejects.toThrow(/exited \(1\) before listening/)
    expect(Date.now() - t).toBeLessThan(5000)
    expect(p.output()).toContain('bad config line 3')
    await p.stop()
  })

  it('finds ports that both 127.0.0.1 and ::1 can listen on', async () => {
    const port = await freePort()
    const servers = [net.createServer(), net.createServer()]
    try {
      await Promise.all(
        ['127.0.0.1', '::1'].map(
          (host, i) =>
            new Promise<void>((resolve, reject) => {
              servers[i]!.once('error', reject).listen({ port, host, exclusive: true }, resolve)
            }),
        ),
      )
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))))
    }
  })
})
