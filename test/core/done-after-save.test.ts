// The stream's "done" comes only once the final report is stored: a client
// that reads GET /api/v1/checks/:id when its stream ends must get the final
// report, not the running one (test/contract/mail.test.ts saw the race on CI).
import t from 'tap'
import { testApp, randomLoopback } from '../helpers.js'
import type { CheckDefinition } from '../../src/checks/context.js'
import type { ReportEvent } from '../../src/core/report.js'

t.test('"done" is published after the final saveReport, however slow the store', async (t) => {
  const app = await testApp()
  t.teardown(() => app.close())
  const store = app.mx.store
  // A store whose final save is slow (as a loaded Redis is): the race window made wide.
  const save = store.saveReport.bind(store)
  store.saveReport = async (report, ttl) => {
    if (report.status !== 'running') await new Promise((resolve) => setTimeout(resolve, 300))
    await save(report, ttl)
  }
  t.teardown(() => { store.saveReport = save })
  const quick: CheckDefinition<Record<string, never>, null> = {
    type: 'quick',
    probes: false,
    prepare: async () => null,
    run: async (ctx) => {
      ctx.report.step('one', 'pass', 'done at once')
      ctx.report.finish('finished')
    }
  }
  const started = await app.mx.runner.start(quick, {}, randomLoopback(), 'en')
  let resolveSeen: (s: string) => void = () => {}
  const seen = new Promise<string>((resolve) => { resolveSeen = resolve })
  const unsubscribe = await store.subscribe(started.id, (ev: ReportEvent) => {
    if (ev.type !== 'done') return
    store.getReport(started.id).then((r) => resolveSeen(r?.status ?? 'missing'), () => resolveSeen('error'))
  })
  await started.done
  t.equal(await seen, 'pass', 'the stored report is the final one when "done" arrives')
  await unsubscribe()
})
