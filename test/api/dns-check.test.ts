import t from 'tap'
import { startDns, reverseName } from '../fixtures/dns.js'
import { testApp, randomLoopback, reportModelErrors } from '../helpers.js'

const home = randomLoopback()
const other = randomLoopback()

t.test('DNS check against a real DNS server on loopback', async (t) => {
  const dns = await startDns({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: [{ address: home, ttl: 120 }] },
    'lan.example': { MX: [{ exchange: 'mx.lan.example', priority: 10 }] },
    'mx.lan.example': { A: ['192.168.1.2'] },
    'nomx.example': { A: [home] },
    'null.example': { MX: [{ exchange: '', priority: 0 }] },
    'backup.example': { MX: [{ exchange: 'mx1.backup.example', priority: 10 }, { exchange: 'mx2.backup.example', priority: 20 }] },
    'mx1.backup.example': { A: [other] },
    'mx2.backup.example': { A: [home] },
    [reverseName(home)]: { PTR: ['mx.home.example'] }
  })
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server })
  t.teardown(() => app.close())
  const post = (domain: string, ip = home) => app.inject({ method: 'POST', url: '/api/v1/checks/dns', payload: { domain }, remoteAddress: ip })

  const ok = await post('home.example')
  t.equal(ok.statusCode, 200)
  const r = ok.json()
  t.equal(r.status, 'pass', r.summary)
  t.same(reportModelErrors(r), [], 'the report fits the model; its status is its steps\' verdict')
  t.equal(r.type, 'dns')
  t.equal(r.callerIp, home)
  t.same(r.target, { domain: 'home.example', host: 'mx.home.example', ip: home })
  t.equal(r.dns.mx[0].ttl, 120)
  t.ok(r.id && r.startedAt && r.finishedAt)

  const stored = await app.inject({ method: 'GET', url: `/api/v1/checks/${r.id}` })
  t.equal(stored.json().status, 'pass')

  const mismatch = (await post('home.example', other)).json()
  t.equal(mismatch.status, 'fail')
  t.ok(mismatch.advice.some((a: any) => a.code === 'dns.ip_mismatch' && /120/.test(a.en)), 'explains the TTL')

  const lan = (await post('lan.example')).json()
  t.equal(lan.status, 'fail')
  t.ok(lan.advice.some((a: any) => a.code === 'dns.mx_private'))

  const implicit = (await post('nomx.example')).json()
  t.equal(implicit.status, 'warn')
  t.ok(implicit.advice.some((a: any) => a.code === 'dns.no_mx_implicit'))

  const nullMx = (await post('null.example')).json()
  t.equal(nullMx.status, 'fail')
  t.ok(nullMx.advice.some((a: any) => a.code === 'dns.null_mx'))

  const backup = (await post('backup.example')).json()
  t.equal(backup.status, 'warn')
  t.ok(backup.advice.some((a: any) => a.code === 'dns.backup_mx_only'))

  const nx = (await post('nothere.example')).json()
  t.equal(nx.status, 'fail')
  t.ok(nx.advice.some((a: any) => a.code === 'dns.nxdomain'))

  const ptrless = (await post('nomx.example', home)).json()
  t.ok(ptrless.steps.some((s: any) => s.name === 'ptr' && s.status === 'pass'))
})
