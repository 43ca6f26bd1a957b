// Redis Cluster: three real redis-server nodes with --cluster-enabled on
// loopback, joined by `redis-cli --cluster create`. The store, the shared
// rate limits and the live event stream across two app instances work
// through ioredis' Cluster client, and a report's keys share one hash slot.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { Redis } from 'ioredis'
import { RedisStore, parseClusterUrl, tag } from '../../src/store/redis.js'
import { loadConfig } from '../../src/config.js'
import { testApp, randomLoopback, uniquePrefix, requireTool } from '../helpers.js'
import { freeClusterPort, startRedis, tmpDir, startScriptedServer, sseClient } from './fixtures.js'
import type { Report } from '../../src/core/report.js'

const home = randomLoopback()

t.test('cluster URL parsing and configuration', async (t) => {
  t.same(parseClusterUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001'), { nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }], username: undefined, password: undefined, tls: false })
  t.match(parseClusterUrl('rediss+cluster://:s%40cret@r1:6380/'), { nodes: [{ host: 'r1', port: 6380 }], password: 's@cret', tls: true })
  t.equal(parseClusterUrl('redis://127.0.0.1:6379'), null)
  t.equal(parseClusterUrl('redis+cluster://h:99999'), null)
  t.equal(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000,b:7001' }).redisUrl, 'redis+cluster://a:7000,b:7001')
  t.equal(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'rediss://:pw@ignored' }).redisUrl, 'rediss+cluster://:pw@a:7000')
  t.throws(() => loadConfig({ REDIS_URL: 'redis+cluster://' }), /REDIS_URL/)
  t.equal(tag('abc'), '{abc}')
  t.throws(() => loadConfig({ REDIS_PREFIX: 'mx{x}:' }), /REDIS_PREFIX must not contain braces/)
})

t.test('a real three-node cluster', async (t) => {
  if (!requireTool(t, 'redis-server', 'redis-cli')) return
  const dir = tmpDir('cluster')
  const ports = [await freeClusterPort(), await freeClusterPort(), await freeClusterPort()]
  const nodes = await Promise.all(ports.map((p, i) => {
    const d = `${dir}/n${i}`
    execFileSync('mkdir', ['-p', d])
    return startRedis(p, d, ['--cluster-enabled', 'yes', '--cluster-config-file', `${d}/nodes.conf`, '--cluster-node-timeout', '2000'])
  }))
  t.teardown(async () => { for (const n of nodes) await n.stop() })
  execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], { stdio: 'pipe' })
  // wait until every node says the cluster is ok
  for (let i = 0; i < 100; i++) {
    const ok = ports.every((p) => /cluster_state:ok/.test(execFileSync('redis-cli', ['-p', String(p), 'cluster', 'info']).toString()))
    if (ok) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const url = `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`

  t.test('store operations on the cluster', async (t) => {
    const prefix = uniquePrefix()
    const store = new RedisStore(url, prefix)
    t.teardown(() => store.close())
    t.ok(store.cluster)
    t.ok(await store.waitReady(5000), 'cluster client ready')
    await store.ping()
    // many reports land on different shards; each one's keys stay on one slot
    const direct = new Redis(ports[0])
    t.teardown(() => direct.disconnect())
    const slotsSeen = new Set<number>()
    for (let i = 0; i < 12; i++) {
      const id = `r${String(i).padStart(2, '0')}xxxxxxxxxxxxx`
      const report = { id, type: 'dns', status: 'pass', steps: [], transcript: [], advice: [] } as unknown as Report
      await store.saveReport(report, 60)
      await store.appendEvent(id, { seq: 1, type: 'transcript', data: { at: 0, dir: 'I', text: 'x' } }, 60)
      t.equal((await store.getReport(id))?.id, id)
      t.equal((await store.getEvents(id, 0)).length, 1)
      const s1 = Number(await direct.call('cluster', 'keyslot', `${prefix}report:${tag(id)}`))
      const s2 = Number(await direct.call('cluster', 'keyslot', `${prefix}events:${tag(id)}`))
      t.equal(s1, s2, 'report and events share a slot')
      slotsSeen.add(s1)
    }
    t.ok(slotsSeen.size > 1, 'reports are spread over slots')
    t.ok(await store.acquireSlot('total', 'a', 1, 5000))
    t.notOk(await store.acquireSlot('total', 'b', 1, 5000))
    await store.releaseSlot('total', 'a')
    t.ok(await store.acquireSlot('total', 'b', 1, 5000))
    await store.setRecent('k', 'v', 10)
    t.equal(await store.getRecent('k'), 'v')

    // pub/sub across two cluster clients (two "instances")
    const other = new RedisStore(url, prefix)
    t.teardown(() => other.close())
    await other.waitReady(5000)
    const got: number[] = []
    const unsub = await other.subscribe('r00xxxxxxxxxxxxx', (ev) => got.push(ev.seq))
    await new Promise((resolve) => setTimeout(resolve, 100))
    await store.appendEvent('r00xxxxxxxxxxxxx', { seq: 2, type: 'transcript', data: { at: 0, dir: 'I', text: 'y' } }, 60)
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    t.same(got, [2], 'event published on one client reached the other')
    await unsub()
  })

  t.test('two app instances on the cluster: rate limits and SSE', async (t) => {
    const smtp = await startScriptedServer(home, 25, { delayMs: 800 })
    t.teardown(() => smtp.close())
    const prefix = uniquePrefix()
    // a generous banner wait: this asserts the streaming, and a loaded machine starves the event loop
    const env = { REDIS_URL: url, REDIS_PREFIX: prefix, RATE_LIMITS: 'ports=3/60', BANNER_TIMEOUT_MS: '10000' }
    const a = await testApp(env)
    const b = await testApp(env)
    t.teardown(async () => { await a.close(); await b.close() })
    t.equal((await a.inject('/readyz')).json().store, 'redis')
    const started = await a.inject({ method: 'POST', url: '/api/v1/checks/ports?async=1', remoteAddress: home, payload: { ports: [25] } })
    t.equal(started.statusCode, 202, started.body)
    await b.listen({ port: 0, host: '127.0.0.1' })
    const events = await sseClient(`http://127.0.0.1:${(b.server.address() as any).port}/api/v1/checks/${started.json().id}/events`).done
    t.equal(events.at(-1)?.event, 'done')
    t.ok(events.some((e) => e.event === 'transcript' && e.data.includes('ESMTP')), 'banner streamed by B from the check on A')
    await Promise.allSettled([...a.mx.runner.running])
    // limit 3 per caller, shared: one used on A; two more on B; the fourth (on A) is refused
    t.not((await b.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, payload: { ports: [25] } })).statusCode, 429)
    t.not((await b.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, payload: { ports: [25] } })).statusCode, 429)
    const fourth = await a.inject({ method: 'POST', url: '/api/v1/checks/ports', remoteAddress: home, payload: { ports: [25] } })
    t.equal(fourth.statusCode, 429, 'rate-limit counters live in the cluster')
  })
})
