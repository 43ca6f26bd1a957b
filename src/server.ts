// Entry point: read config, build the app, listen, and shut down gracefully
// on SIGTERM/SIGINT:
//   1. stop accepting connections (new requests on kept-alive ones get 503),
//      tell open event streams to reconnect elsewhere (routes/api.ts preClose);
//   2. let running checks finish — each ends by its own absolute deadline —
//      and store their final reports (app.ts onClose waits for runner.running);
//   3. close Redis, exit 0.
// A watchdog exits 1 if that takes longer than the check deadline plus a margin.
import { loadConfig, ConfigError } from './config.js'
import { buildApp } from './app.js'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`mxprobe: configuration error: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
  const app = await buildApp(config)
  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    const running = app.mx.runner.running.size
    app.log.info({ signal, running }, 'shutting down: no new requests; finishing running checks')
    const force = setTimeout(() => {
      app.log.error({ running: app.mx.runner.running.size }, 'shutdown took too long; exiting')
      process.exit(1)
    }, config.check.checkDeadlineMs + 5000)
    force.unref()
    app.close().then(() => {
      app.log.info('shutdown complete: reports stored, store closed')
      process.exit(0)
    }, (err: unknown) => {
      app.log.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  await app.listen({ port: config.port, host: config.host })
}

main().catch((err) => {
  console.error('mxprobe: failed to start:', err)
  process.exit(1)
})
