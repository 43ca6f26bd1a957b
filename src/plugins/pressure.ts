// The one event-loop monitor of the process (it replaces @fastify/under-pressure
// and prom-client's own sampler, which ran side by side): a timer every
// `intervalMs` that measures how late it fires. /readyz reads the last sample;
// /metrics exports it and the largest since the previous scrape. One cheap
// timer instead of two samplers, one of them at 10 ms resolution.
import type { FastifyInstance } from 'fastify'

export class LoopMonitor {
  /** lateness of the last sample, ms */
  delayMs = 0
  /** the largest lateness since takeMax() was last called, ms */
  private maxMs = 0
  private timer: NodeJS.Timeout | null = null

  constructor (readonly intervalMs = 500) {}

  start (): void {
    if (this.timer) return
    let expected = performance.now() + this.intervalMs
    this.timer = setInterval(() => {
      const now = performance.now()
      this.delayMs = Math.max(0, now - expected)
      if (this.delayMs > this.maxMs) this.maxMs = this.delayMs
      expected = now + this.intervalMs
    }, this.intervalMs)
    this.timer.unref()
  }

  takeMax (): number {
    const m = Math.max(this.maxMs, this.delayMs)
    this.maxMs = 0
    return m
  }

  stop (): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }
}

export default async function pressurePlugin (app: FastifyInstance, o: { monitor: LoopMonitor }): Promise<void> {
  o.monitor.start()
  app.addHook('onClose', async () => o.monitor.stop())
}
;(pressurePlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true
