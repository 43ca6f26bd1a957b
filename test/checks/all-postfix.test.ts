// The whole diagnosis against Debian's Postfix on loopback (skipped where
// this machine has no Postfix or the test does not run as root).
import t from 'tap'
import { startDns, publishMx } from '../fixtures/dns.js'
import { startPostfix, postfixAvailable } from '../fixtures/postfix.js'
import { testApp } from '../helpers.js'

const USERS = ['postmaster', 'abuse', 'webmaster', 'hostmaster', 'noc', 'security', 'ftp', 'taro']

t.test('a healthy Postfix: every child runs and none is an error', { skip: postfixAvailable() ? false : 'needs root and /usr/sbin/postfix' }, async (t) => {
  const pf = await startPostfix({ domain: 'pf-all.test', users: USERS })
  t.teardown(() => pf.stop())
  const dns = await startDns({})
  t.teardown(() => dns.close())
  publishMx(dns.zone, 'pf-all.test', pf.ip, pf.hostname)
  const many = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls', 'pop3'].map((x) => `${x}=1000/600`).join(',')
  const app = await testApp({ DNS_SERVERS: dns.server, RATE_LIMITS: many, DOMAIN_RATE_LIMITS: many })
  t.teardown(() => app.close())
  const r = (await app.inject({ method: 'POST', url: '/api/v1/checks/all?lang=ja', payload: { target: 'taro@pf-all.test' }, remoteAddress: pf.ip })).json()
  t.same(r.children.map((c: any) => c.type), ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls'])
  for (const c of r.children) t.ok(['pass', 'warn'].includes(c.status), `${c.type}: ${c.status} ${c.summary}`)
  t.equal(r.children.find((c: any) => c.type === 'relay').status, 'pass', 'Postfix with its defaults is no open relay')
  await pf.waitForMail('taro', (raw) => /mxprobe/i.test(raw), 10_000)
  t.ok(r.fixFirst.every((f: any) => f.message && !/^[a-z]+\.[a-z_]+$/.test(f.message)))
})
