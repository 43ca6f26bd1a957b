// Plumbing for the operations tests: scripted mail-port servers on loopback,
// a real HTTP Server-Sent-Events client, a log capture, child processes of
// the real server built with tsc, and helpers to start redis-server / nginx.
import { SseParser, type SseEvent } from '../fixtures/sse.js'
import net from 'node:net'
import http from 'node:http'
import { Writable } from 'node:stream'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, existsSync, rmSync, readdirSync, readFileSync, writeFileSync, renameSync, symlinkSync, copyFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..')

export interface ScriptedServer {
  /** connections accepted so far */
  connections: number
  /** lines received from mxprobe */
  received: string[]
  close: () => Promise<void>
}

/**
 * A mail-port server on host:port. `banner` is sent on connect (after
 * `delayMs`); `silent` never says anything (a tarpit). Every received line is kept.
 */
export async function startScriptedServer (host: string, port: number, opts: { banner?: string, delayMs?: number, silent?: boolean } = {}): Promise<ScriptedServer> {
  const sockets = new Set<net.Socket>()
  const state: ScriptedServer = { connections: 0, received: [], close: async () => {} }
  const server = net.createServer((s) => {
    state.connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString('latin1')
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '')
        buf = buf.slice(i + 1)
        state.received.push(line)
        if (/^QUIT/i.test(line)) { s.end('221 bye\r\n') }
      }
    })
    if (opts.silent) return
    const t = setTimeout(() => { if (!s.destroyed) s.write(opts.banner ?? '220 home.example ESMTP scripted\r\n') }, opts.delayMs ?? 0)
    s.on('close', () => clearTimeout(t))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  state.close = async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return state
}

export type { SseEvent }

/**
 * A real HTTP SSE client (no EventSource polyfill): collects events until the
 * stream ends; `done` resolves with all of them. `localAddress` picks the source address.
 */
export function sseClient (url: string, opts: { localAddress?: string, headers?: Record<string, string> } = {}) {
  const events: SseEvent[] = []
  let status = 0
  let headers: http.IncomingHttpHeaders = {}
  let req!: http.ClientRequest
  const done = new Promise<SseEvent[]>((resolve, reject) => {
    req = http.get(url, { localAddress: opts.localAddress, headers: { accept: 'text/event-stream', ...opts.headers } }, (res) => {
      status = res.statusCode ?? 0
      headers = res.headers
      res.setEncoding('utf8')
      const parser = new SseParser()
      res.on('data', (chunk: string) => { events.push(...parser.push(chunk)) })
      res.on('end', () => resolve(events))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
  return { events, done, get status () { return status }, get headers () { return headers }, abort: () => req.destroy() }
}

/** A pino destination that keeps every JSON line. */
export function logCapture () {
  const lines: any[] = []
  const stream = new Writable({
    write (chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) { try { lines.push(JSON.parse(l)) } catch { lines.push({ raw: l }) } }
      cb()
    }
  })
  return { lines, stream }
}

/**
 * Compile the app with tsc into a tmp dir and return the path of server.js
 * there: the real `npm start` entry, no ts loader in the way. The build is
 * cached by a hash of the sources, so test files running in parallel (and
 * reruns) compile once; a half-written build is never used (atomic rename).
 */
export function buildServer (): { serverJs: string, dir: string, cleanup: () => void } {
  const h = createHash('sha256')
  const walk = (p: string): void => {
    for (const e of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const f = join(p, e.name)
      if (e.isDirectory()) walk(f)
      else { h.update(f); h.update(readFileSync(f)) }
    }
  }
  h.update(readFileSync(join(ROOT, 'tsconfig.json')))
  walk(join(ROOT, 'src'))
  walk(join(ROOT, 'routes'))
  if (existsSync(join(ROOT, 'public'))) walk(join(ROOT, 'public'))
  const dir = join(tmpdir(), `mxprobe-build-${h.digest('hex').slice(0, 16)}`)
  const serverJs = join(dir, 'src/server.js')
  if (!existsSync(join(dir, '.complete'))) {
    const work = mkdtempSync(join(tmpdir(), 'mxprobe-building-'))
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', work, '--sourceMap', 'false'], { stdio: 'inherit' })
    // ESM resolution of bare imports walks up from the file: give the build our node_modules and package.json ("type": "module").
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'))
    copyFileSync(join(ROOT, 'package.json'), join(work, 'package.json'))
    // the page assets are found next to package.json (src/web/assets.ts)
    if (existsSync(join(ROOT, 'public'))) symlinkSync(join(ROOT, 'public'), join(work, 'public'))
    writeFileSync(join(work, '.complete'), '')
    try { renameSync(work, dir) } catch { rmSync(work, { recursive: true, force: true }) /* another test file finished first */ }
  }
  return { serverJs, dir, cleanup: () => {} }
}

/**
 * The server entry for tests: src/server.ts run by the same TypeScript loader
 * tap uses (transpile only), so a test file does not wait for a full tsc
 * build on a busy machine. Benchmarks use buildServer() (the compiled dist).
 */
export function serverEntry (): string {
  return join(ROOT, 'src/server.ts')
}

export interface ServerProcess {
  proc: ChildProcess
  url: string
  logs: any[]
  stderr: string[]
  exited: Promise<number | null>
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/** Start `node server.js` with env; resolves when it answers /healthz. */
export async function startServer (serverJs: string, env: Record<string, string>, opts: { quiet?: boolean, nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  // quiet: logs go to /dev/null (benchmarks: parsing them here would compete with the server for CPU)
  const viaLoader = serverJs.endsWith('.ts')
  const args = [...(viaLoader ? [`--import=${pathToFileURL(join(ROOT, 'scripts/ts-loader.mjs')).href}`] : []), ...(opts.nodeArgs ?? []), serverJs]
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', opts.quiet ? 'ignore' : 'pipe', 'pipe']
  })
  const logs: any[] = []
  const stderr: string[] = []
  let out = ''
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d
    let i
    while ((i = out.indexOf('\n')) >= 0) {
      const l = out.slice(0, i); out = out.slice(i + 1)
      try { logs.push(JSON.parse(l)) } catch { logs.push({ raw: l }) }
    }
  })
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => stderr.push(d))
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  const url = `http://${env.HOST}:${env.PORT}`
  const until = Date.now() + 60_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${stderr.join('')}`)
    try {
      const r = await fetch(`${url}/healthz`)
      if (r.ok) break
    } catch {}
    if (Date.now() > until) { proc.kill('SIGKILL'); throw new Error(`server did not start: ${stderr.join('')}`) }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    proc,
    url,
    logs,
    stderr,
    exited,
    stop: async (signal = 'SIGTERM') => { if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal); return await exited }
  }
}

/** A free TCP port on host (bound and released). */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, host, () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
  })
}

/** A port p in 20000-29999 with p and p+10000 (the Redis cluster bus port) both free. */
export async function freeClusterPort (): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 10000)
    const free = async (port: number) => await new Promise<boolean>((resolve) => {
      const s = net.createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (await free(p) && await free(p + 10000)) return p
  }
}

/** Start a private redis-server (no persistence) in dir; extra args e.g. cluster mode. */
export async function startRedis (port: number, dir: string, extra: string[] = []): Promise<{ proc: ChildProcess, stop: () => Promise<void> }> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()))
  for (let i = 0; i < 100; i++) {
    try { execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' }); break } catch { await new Promise((resolve) => setTimeout(resolve, 50)) }
  }
  return { proc, stop: async () => { if (proc.exitCode === null) proc.kill('SIGKILL'); await exited } }
}

export function tmpDir (name: string): string {
  return mkdtempSync(join(tmpdir(), `mxprobe-${name}-`))
}

export { existsSync }
