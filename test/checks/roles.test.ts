import t from 'tap'
import { startDns } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { startScripted } from '../fixtures/relay-smtp.js'
import { testApp, randomLoopback } from '../helpers.js'

const ROLES = ['postmaster', 'abuse', 'webmaster', 'hostmaster', 'noc', 'security', 'ftp']

t.test('roles check', async (t) => {
  const ips = Array.from({ length: 5 }, () => randomLoopback())
  const zone: Record<string, any> = {}
  ips.forEach((ip, i) => {
    zone[`r${i}.example`] = { MX: [{ exchange: `mx.r${i}.example`, priority: 10 }] }
    zone[`mx.r${i}.example`] = { A: [ip] }
  })
  const dns = await startDns(zone)
  t.teardown(() => dns.close())
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: 'roles=1000/600', DOMAIN_RATE_LIMITS: 'roles=1000/600' })
  t.teardown(() => app.close())
  const post = (i: number) => app.inject({ method: 'POST', url: '/api/v1/checks/roles', payload: { domain: `r${i}.example` }, remoteAddress: ips[i] })

  await t.test('all role addresses exist (smtp-server): pass, nothing delivered', async (t) => {
    const srv = await startSmtp({ ip: ips[0], users: ROLES })
    t.teardown(() => srv.close())
    const r = (await post(0)).json()
    t.equal(r.status, 'pass', r.summary)
    t.same(r.mailboxes.map((m: any) => m.address), ['postmaster@r0.example', 'postmaster', 'abuse@r0.example', 'webmaster@r0.example', 'hostmaster@r0.example', 'noc@r0.example', 'security@r0.example', 'ftp@r0.example'])
    t.same(r.mailboxes.map((m: any) => m.required), [true, true, true, false, false, false, false, false])
    t.ok(r.mailboxes.every((m: any) => m.accepted && /^250/.test(m.reply)))
    t.equal(srv.delivered.length, 0, 'RCPT only: nothing delivered')
    t.equal(srv.rcpts.length, 8)
  })

  await t.test('abuse and the recommended ones missing: fail with advice', async (t) => {
    const srv = await startSmtp({ ip: ips[1], users: ['postmaster'] })
    t.teardown(() => srv.close())
    const r = (await post(1)).json()
    t.equal(r.status, 'fail')
    const abuse = r.mailboxes.find((m: any) => m.address === 'abuse@r1.example')
    t.equal(abuse.accepted, false)
    t.match(abuse.reply, /^550/)
    t.ok(r.advice.some((a: any) => a.code === 'roles.required_missing' && /abuse@r1\.example/.test(a.en) && /RFC 2142/.test(a.en)))
    t.ok(r.advice.some((a: any) => a.code === 'roles.recommended_missing' && /webmaster@r1\.example/.test(a.en) && /one real mailbox/.test(a.en)))
    t.equal(srv.delivered.length, 0)
  })

  await t.test('only recommended ones missing: warn', async (t) => {
    const srv = await startSmtp({ ip: ips[2], users: ['postmaster', 'abuse'] })
    t.teardown(() => srv.close())
    const r = (await post(2)).json()
    t.equal(r.status, 'warn', r.summary)
  })

  await t.test('bare <postmaster> refused (a server that insists on a domain): fail; never DATA', async (t) => {
    const srv = await startScripted({ ip: ips[3], rcpt: (a) => a === 'postmaster' ? '501 5.1.3 Bad recipient address syntax' : '250 2.1.5 Ok' })
    t.teardown(() => srv.close())
    const r = (await post(3)).json()
    t.equal(r.status, 'fail')
    t.equal(r.mailboxes.find((m: any) => m.address === 'postmaster').accepted, false)
    t.ok(srv.commands.some((c) => c.line === 'RCPT TO:<postmaster>'))
    t.notOk(srv.commands.some((c) => /^DATA/i.test(c.line)))
    t.ok(srv.commands.some((c) => c.line === 'QUIT'))
  })

  await t.test('greylisting: warn', async (t) => {
    const srv = await startSmtp({ ip: ips[4], greylist: true })
    t.teardown(() => srv.close())
    const r = (await post(4)).json()
    t.equal(r.status, 'warn')
    t.ok(r.advice.some((a: any) => a.code === 'roles.temporary'))
  })

  const refused = await app.inject({ method: 'POST', url: '/api/v1/checks/roles', payload: { domain: 'r0.example' }, remoteAddress: randomLoopback() })
  t.equal(refused.statusCode, 403)
})
