// Prometheus metrics for operators: what checks ran and how they ended,
// how long they took, what outbound connections were made, rate-limit
// rejections, open event streams.
import { createRequire } from 'node:module'
import { Registry, Counter, Histogram, Gauge } from 'prom-client'
import type { AuditRecord } from '../net/connect.js'
import type { Report } from '../core/report.js'

import type { LoopMonitor } from './pressure.js'

type DefaultMetric = (registry: Registry, config: { prefix: string }) => void
const require = createRequire(import.meta.url)
/**
 * prom-client's default process metrics, all but its event-loop sampler (a
 * second monitor at 10 ms resolution): the event loop is measured once, by
 * LoopMonitor (src/plugins/pressure.ts), and exported below; and without the GC
 * observer, a callback on every collection (0.8 % of /api/v1/ip's CPU profile).
 */
const DEFAULT_METRICS = ['processCpuTotal', 'processStartTime', 'osMemoryHeap', 'processOpenFileDescriptors', 'processMaxFileDescriptors',
  'processHandles', 'processRequests', 'heapSizeAndUsed', 'heapSpacesSizeAndUsed', 'version']
  .map((name) => require(`prom-client/lib/metrics/${name}.js`) as DefaultMetric)

export class Metrics {
  readonly registry = new Registry()
  private readonly checks: Counter<'type' | 'status'>
  private readonly durations: Histogram<'type'>
  private readonly connections: Counter<'port' | 'outcome'>
  private readonly limited: Counter
  readonly sseStreams: Gauge
  private readonly loopGauges: Gauge[] = []

  constructor (loop?: LoopMonitor) {
    for (const m of DEFAULT_METRICS) m(this.registry, { prefix: 'mxprobe_' })
    if (loop) {
      const registers = [this.registry]
      const gauges: Gauge[] = []
      // Registered first, its collect sets the other three before they are read.
      gauges.push(new Gauge({
        name: 'mxprobe_nodejs_eventloop_lag_seconds',
        help: 'Event-loop delay: lateness of the last sample of the one loop monitor',
        registers,
        collect () {
          this.set(loop.delayMs / 1000)
          const s = loop.takeSamples()
          gauges[1].set(s.p50 / 1000)
          gauges[2].set(s.p99 / 1000)
          gauges[3].set(s.max / 1000)
        }
      }))
      gauges.push(new Gauge({ name: 'mxprobe_nodejs_eventloop_lag_p50_seconds', help: 'Event-loop delay since the previous scrape: median of the samples', registers }))
      gauges.push(new Gauge({ name: 'mxprobe_nodejs_eventloop_lag_p99_seconds', help: 'Event-loop delay since the previous scrape: 99th percentile of the samples', registers }))
      gauges.push(new Gauge({ name: 'mxprobe_nodejs_eventloop_lag_max_seconds', help: 'Event-loop delay since the previous scrape: the largest sample', registers }))
      this.loopGauges.push(...gauges)
    }
    this.checks = new Counter({ name: 'mxprobe_checks_total', help: 'Checks finished, by type and status', labelNames: ['type', 'status'], registers: [this.registry] })
    this.durations = new Histogram({ name: 'mxprobe_check_duration_seconds', help: 'Check duration', labelNames: ['type'], buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 45, 60], registers: [this.registry] })
    this.connections = new Counter({ name: 'mxprobe_outbound_connections_total', help: 'Outbound connection attempts by port and outcome', labelNames: ['port', 'outcome'], registers: [this.registry] })
    this.limited = new Counter({ name: 'mxprobe_rate_limited_total', help: 'Requests refused by a rate limit', registers: [this.registry] })
    this.sseStreams = new Gauge({ name: 'mxprobe_sse_streams', help: 'Open Server-Sent Event streams', registers: [this.registry] })
  }

  checkFinished (r: Report): void {
    this.checks.inc({ type: r.type, status: String(r.status) })
    if (typeof r.durationMs === 'number') this.durations.observe({ type: r.type }, r.durationMs / 1000)
  }

  outbound (rec: AuditRecord): void {
    if (rec.outcome) this.connections.inc({ port: String(rec.port), outcome: rec.outcome })
  }

  rateLimited (): void { this.limited.inc() }
}
