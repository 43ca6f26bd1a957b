// Shared by the bench scripts: machine facts for bench/RESULTS.md, starting
// the real server build as a child process, percentiles.
import os from 'node:os'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { ROOT } from '../test/ops/fixtures.js'
import type { Zone } from '../test/fixtures/dns.js'

export function machine (): string {
  const free = (() => { try { return execFileSync('free', ['-h']).toString().split('\n')[1].trim().replace(/\s+/g, ' ') } catch { return `${Math.round(os.totalmem() / 2 ** 30)} GiB` } })()
  return `${new Date().toISOString()} · ${os.cpus()[0]?.model ?? 'cpu'} · nproc ${os.availableParallelism?.() ?? os.cpus().length} · ${free} · node ${process.version} · ${os.type()} ${os.release()}`
}

export function percentile (sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

export function fmt (n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n)
}

/**
 * The test suite's dns2 server, in a child process of its own: in the bench
 * process it would share a CPU with the load generator and time out.
 */
export async function startDnsProcess (zone: Zone): Promise<{ server: string, stop: () => void }> {
  const code = `const { startDns } = await import('./test/fixtures/dns.js')
const d = await startDns(${JSON.stringify(zone)})
process.stdout.write(d.server + '\\n')`
  const p: ChildProcess = spawn(process.execPath, ['--import=./scripts/ts-loader.mjs', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const server = await new Promise<string>((resolve, reject) => {
    let out = ''
    p.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out.trim()) })
    p.on('exit', (c) => reject(new Error(`dns server exited ${c}`)))
  })
  return { server, stop: () => { p.kill() } }
}

/** Load average, to read the figures with: other work on the machine skews them. */
export function load (): string {
  return os.loadavg().map((x) => x.toFixed(1)).join(' ')
}
