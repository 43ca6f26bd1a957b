// Entry point: read config, build the app, listen, and shut down gracefully
// on SIGTERM/SIGINT (stop accepting, let running checks end, close Redis).
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
    app.log.info({ signal }, 'shutting down: finishing running checks')
    const force = setTimeout(() => process.exit(1), config.check.checkDeadlineMs + 5000)
    force.unref()
    app.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  // Listen once the store is connected (bounded wait): Redis connects in the
  // background, and a check arriving in the first milliseconds after the port
  // opens would otherwise be refused with 503. A Redis that is down at start
  // does not keep the server from starting: its endpoints fail closed (503).
  const storeDeadline = Date.now() + 5000
  while (!app.mx.store.isReady() && Date.now() < storeDeadline) await new Promise((resolve) => setTimeout(resolve, 25))
  await app.listen({ port: config.port, host: config.host })
}

main().catch((err) => {
  console.error('mxprobe: failed to start:', err)
  process.exit(1)
})
