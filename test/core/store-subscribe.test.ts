// Several followers of one report on one instance share one Redis
// subscription. One of them leaving while another is still subscribing must
// neither leave the other deaf (the channel unsubscribed under it) nor leave
// a subscription behind when all have left.
import t from 'tap'
import { Redis } from 'ioredis'
import { RedisStore } from '../../src/store/redis.js'
import { newReportId, type ReportEvent } from '../../src/core/report.js'
import { uniquePrefix, REDIS_URL } from '../helpers.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a follower leaving does not unsubscribe one still subscribing', async (t) => {
  const prefix = uniquePrefix()
  const store = new RedisStore(REDIS_URL, prefix)
  t.teardown(() => store.close())
  const redis = new Redis(REDIS_URL)
  t.teardown(() => redis.quit())
  for (let i = 0; i < 50 && !store.isReady(); i++) await sleep(50)
  const id = newReportId()
  const numsub = async () => Number((await redis.pubsub('NUMSUB', `${prefix}ev:${id}`) as [string, number])[1])

  const seenA: ReportEvent[] = []
  const subscribingA = store.subscribe(id, (ev) => seenA.push(ev))
  const leaveB = await store.subscribe(id, () => {})
  await leaveB()
  const leaveA = await subscribingA

  const ev: ReportEvent = { seq: 1, type: 'transcript', data: { at: 0, dir: 'I', text: 'hello' } }
  await store.appendEvent(id, ev, 60)
  for (let i = 0; i < 40 && !seenA.length; i++) await sleep(25)
  t.same(seenA.map((e) => e.seq), [1], 'the follower still subscribing hears the event')

  await leaveA()
  for (let i = 0; i < 40 && await numsub() > 0; i++) await sleep(25)
  t.equal(await numsub(), 0, 'no subscription is left once every follower has left')
})
