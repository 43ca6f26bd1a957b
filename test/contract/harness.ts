// Plumbing for the contract tests: mxprobe as an outsider sees it — a child
// process started like `npm start` (src/server.ts through tap's TypeScript
// loader, transpile only, so no tsc build is awaited), plain HTTP requests from
// a chosen loopback source address, and a real Server-Sent-Events reader.
import { SseParser, type SseEvent } from '../fixtures/sse.js'
import http from 'node:http'
import net from 'node:net'
import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Test } from 'tap'

export const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..')

export interface Mxprobe {
  url: string
  host: string
  port: number
  proc: ChildProcess
  /** everything the process wrote to stdout and stderr */
  output: () => string
  stop: () => Promise<void>
}

export async function freePort (host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, host, () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
  })
}

export async function portFree (port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen(port, host, () => s.close(() => resolve(true)))
  })
}

/**
 * Start mxprobe with exactly `env` (plus PATH): nothing from the test's own
 * environment leaks in. Resolves once GET /healthz answers.
 */
export async function startMxprobe (env: Record<string, string>): Promise<Mxprobe> {
  const proc = spawn(process.execPath, [`--import=${pathToFileURL(resolve(ROOT, 'scripts/ts-loader.mjs')).href}`, resolve(ROOT, 'src/server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d })
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const host = env.HOST ?? '127.0.0.1'
  const port = Number(env.PORT ?? 3000)
  const url = `http://${host}:${port}`
  const until = Date.now() + 60_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mxprobe exited ${proc.exitCode}: ${out}`)
    try {
      const r = await request(url, 'GET', '/healthz')
      if (r.status === 200) break
    } catch {}
    if (Date.now() > until) { proc.kill('SIGKILL'); throw new Error(`mxprobe did not start: ${out}`) }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    host,
    port,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM')
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(t)
      }
    }
  }
}

export interface Answer { status: number, headers: http.IncomingHttpHeaders, text: string, json: any }

/** One HTTP request from `localAddress` (the caller IP mxprobe sees as TCP peer). */
export async function request (base: string, method: string, path: string, opts: { body?: unknown, rawBody?: string, localAddress?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  const u = new URL(path, base)
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body))
  return await new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method,
      localAddress: opts.localAddress,
      agent: false,
      headers: {
        ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
        ...opts.headers
      }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: any
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}

export type { SseEvent }

/** Read an SSE stream until the server ends it. */
export async function readSse (base: string, path: string, localAddress?: string): Promise<{ status: number, contentType: string, events: SseEvent[] }> {
  const u = new URL(path, base)
  return await new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path: u.pathname, localAddress, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      const events: SseEvent[] = []
      const parser = new SseParser()
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { events.push(...parser.push(chunk)) })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), events }))
      res.on('error', reject)
    })
    req.setTimeout(30_000, () => req.destroy(new Error('SSE stream did not end within 30 s')))
    req.on('error', reject)
  })
}

const STATUSES = ['pass', 'warn', 'fail', 'error']

/** The report shape every check answers with (docs/API.md, "A report has at least"). */
export function assertReport (t: Test, r: any, type: string, callerIp: string): void {
  t.type(r, 'object', `${type}: report is an object`)
  if (!r || typeof r !== 'object') return
  t.type(r.id, 'string', `${type}: id`)
  t.equal(r.type, type, `${type}: type`)
  t.ok(STATUSES.includes(r.status), `${type}: status ${r.status} is one of pass|warn|fail|error`)
  t.equal(r.callerIp, callerIp, `${type}: callerIp`)
  t.type(r.target, 'object', `${type}: target`)
  for (const k of ['domain', 'host', 'ip']) t.ok(r.target && k in r.target, `${type}: target.${k} present`)
  t.ok(!Number.isNaN(Date.parse(r.startedAt)), `${type}: startedAt is a date`)
  t.ok(!Number.isNaN(Date.parse(r.finishedAt)), `${type}: finishedAt is a date`)
  t.type(r.summary, 'string', `${type}: summary`)
  t.ok(r.summary.length > 0, `${type}: summary not empty`)
  t.ok(Array.isArray(r.steps), `${type}: steps`)
  for (const s of r.steps ?? []) {
    if (typeof s.name !== 'string' || !STATUSES.concat('skip', 'info').includes(s.status) || typeof s.detail !== 'string') {
      t.fail(`${type}: step shape ${JSON.stringify(s)}`)
    }
  }
  t.ok(Array.isArray(r.transcript), `${type}: transcript`)
  for (const l of r.transcript ?? []) {
    if (typeof l.at !== 'number' || !['C', 'S', 'I'].includes(l.dir) || typeof l.text !== 'string') t.fail(`${type}: transcript line shape ${JSON.stringify(l)}`)
  }
  t.ok(Array.isArray(r.advice), `${type}: advice`)
  for (const a of r.advice ?? []) {
    if (typeof a.code !== 'string' || typeof a.message !== 'string' || !a.message) t.fail(`${type}: advice shape ${JSON.stringify(a)}`)
  }
}

/** 400/403/429/503 bodies: { error, message } */
export function assertRefusal (t: Test, a: Answer, status: number, error?: string): void {
  t.equal(a.status, status, `HTTP ${status} (${a.text.slice(0, 200)})`)
  t.type(a.json?.error, 'string', 'error code')
  t.type(a.json?.message, 'string', 'message')
  if (error) t.equal(a.json?.error, error)
}
