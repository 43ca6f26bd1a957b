// The expiry sweep with its Redis down: it backs off (1 s, 2 s, 4 s …) and
// logs one warning per attempt, not one a second, and says when it works again.
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import { startOwnRedis } from '../fixtures/redis.js'
import { RedisStore } from '../../src/store/redis.js'
import { SendService } from '../../src/inbound/service.js'
import { DnsClient } from '../../src/dns/resolver.js'
import { GuardedConnector } from '../../src/net/connect.js'
import { testConfig, uniquePrefix, requireTool } from '../helpers.js'

t.test('Redis down: the sweep backs off and says so', async (t) => {
  if (!requireTool(t, 'redis-server')) return
  const redis = await startOwnRedis()
  t.teardown(() => redis.stop())
  const store = new RedisStore(redis.url, uniquePrefix())
  t.teardown(() => store.close())
  const lines: Array<{ level: number, msg: string, retryInMs?: number }> = []
  const log = pino({ level: 'info' }, new Writable({ write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } }))
  const config = testConfig({ INBOUND_LISTEN: '127.0.0.1:0' })
  const service = new SendService({ store, dns: new DnsClient({ servers: ['127.0.0.1:9'], timeoutMs: 100 }), connector: new GuardedConnector({ allowCidrs: [], denyCidrs: [] }), log, settings: config.check, inbound: config.inbound, reportTtlSeconds: 60 })
  t.teardown(() => service.close())
  t.equal(await service.sweep(), 0, 'the sweep runs with Redis up')
  await redis.stop()
  service.startSweeper(50)
  await new Promise((resolve) => setTimeout(resolve, 3500))
  const warns = lines.filter((l) => l.level === 40 && /sweep failed/.test(l.msg))
  // Without back-off: one every 50 ms (70). With it: at 0 s, 1 s, 3 s.
  t.ok(warns.length >= 1 && warns.length <= 4, `${warns.length} warnings in 3.5 s of a 50 ms sweep`)
  t.same(warns.slice(0, 2).map((w) => w.retryInMs), [1000, 2000].slice(0, Math.min(2, warns.length)), 'each says when it tries again, doubling')
  await redis.start()
  await new Promise((resolve) => setTimeout(resolve, 5000))
  t.ok(lines.some((l) => l.level === 30 && /sweep works again/.test(l.msg)), 'and says when it works again')
})
