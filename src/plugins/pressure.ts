// The one event-loop monitor of the process (it replaces @fastify/under-pressure
// and prom-client's own sampler, which ran side by side): a timer every
// `intervalMs` that measures how late it fires. /readyz reads the last sample;
// /metrics exports it and p50/p99/max of the samples since the previous scrape. One cheap
// timer instead of two samplers, one of them at 10 ms resolution.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export class LoopMonitor {
  /** lateness of the last sample, ms */
  delayMs = 0
  /** samples since the last takeSamples(), bounded */
  private samples: number[] = []
  private timer: NodeJS.Timeout | null = null

  constructor (readonly intervalMs = 200) {}

  start (): void {
    if (this.timer) return
    let expected = performance.now() + this.intervalMs
    this.timer = setInterval(() => {
      const now = performance.now()
      this.delayMs = Math.max(0, now - expected)
      if (this.samples.length < 10_000) this.samples.push(this.delayMs)
      expected = now + this.intervalMs
    }, this.intervalMs)
    this.timer.unref()
  }

  /** p50, p99 and max of the samples since the previous call (a scrape), ms; then starts afresh */
  takeSamples (): { p50: number, p99: number, max: number } {
    const s = this.samples.length ? this.samples.sort((a, b) => a - b) : [this.delayMs]
    this.samples = []
    const at = (p: number) => s[Math.min(s.length - 1, Math.floor(s.length * p))]
    return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] }
  }

  stop (): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}

async function pressurePlugin (app: FastifyInstance, o: { monitor: LoopMonitor }): Promise<void> {
  o.monitor.start()
  app.addHook('onClose', async () => o.monitor.stop())
}
export default fp(pressurePlugin, { name: 'mxprobe-pressure' })
