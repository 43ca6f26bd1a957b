// The diagnosis says what the line allows (issue 18, the Japanese IPoE line):
// a caller on IPv4 proves its home's IPv6 prefix, an operator's MAP-E rule
// (LINE_RULES_FILE) maps that prefix onto the caller's shared IPv4 address,
// and the report leads with "IPv4 port 25 cannot be opened on this line",
// with the port set. Real parts: dns2, an smtp-server fixture at the IPv4
// address, the proof from GET /api/v1/ip over the IPv6 "connection".
import t from 'tap'
import { randomInt } from 'node:crypto'
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startDns, publishMx } from '../fixtures/dns.js'
import { startSmtp } from '../fixtures/smtp.js'
import { testApp, reportModelErrors } from '../helpers.js'

const TYPES = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls']
const many = TYPES.map((x) => `${x}=1000/600`).join(',')

t.test('a MAP-E home: the line finding first, in both languages; without the IPv6 proof, nothing is said', async (t) => {
  const hi = randomInt(1, 255)
  const lo = randomInt(1, 255)
  const v4 = `127.77.${hi}.${lo}`
  // fd00:6d78:HHLL:5600::/56: after the rule's /32 the EA bits are HH LL (the IPv4 suffix) and 0x56 (the PSID)
  const v6 = `fd00:6d78:${hi.toString(16).padStart(2, '0')}${lo.toString(16).padStart(2, '0')}:5600::9`
  const dir = mkdtempSync(path.join(tmpdir(), 'mxprobe-line-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'line-rules.json')
  writeFileSync(file, JSON.stringify({ mapE: [{ service: 'テスト用 MAP-E', source: 'this test', ipv6Prefix: 'fd00:6d78::/32', ipv4Prefix: '127.77.0.0/16', eaBits: 24, psidOffset: 6 }] }))
  const dns = await startDns({})
  t.teardown(() => dns.close())
  const srv = await startSmtp({ ip: v4, name: 'mx.ipoe.test', users: ['postmaster', 'abuse'] })
  t.teardown(() => srv.close())
  publishMx(dns.zone, 'ipoe.test', v4)
  const app = await testApp({ DNS_SERVERS: dns.server, LINE_RULES_FILE: file, RATE_LIMITS: many, DOMAIN_RATE_LIMITS: many })
  t.teardown(() => app.close())
  const proof = (await app.inject({ url: '/api/v1/ip', remoteAddress: v6 })).json().proof as string
  t.ok(proof, 'the IPv6 side proves itself')

  for (const lang of ['ja', 'en'] as const) {
    const r = (await app.inject({ method: 'POST', url: `/api/v1/checks/all?lang=${lang}`, payload: { target: 'ipoe.test', proofs: [proof] }, remoteAddress: v4 })).json()
    t.same(reportModelErrors(r), [], 'the report fits the model')
    t.match(r.line, { kind: 'map-e', service: 'テスト用 MAP-E', ipv4: v4, psid: 0x56, portCount: 252, port25: false })
    const step = r.steps.find((s: any) => s.name === 'line')
    t.equal(step?.status, 'warn')
    t.equal(step?.title, lang === 'ja' ? '回線の種類 (IPv4 の共有)' : 'Line type (shared IPv4)')
    t.match(step?.detail, lang === 'ja' ? /25 番は含まれません/ : /25 is not among them/)
    const codes = r.fixFirst.map((f: any) => f.code)
    t.ok(codes.includes('line.map_e'), `the line finding is on the fix-first list (${codes.join(', ')})`)
    const first = r.fixFirst.findIndex((f: any) => f.code === 'line.map_e')
    t.ok(r.fixFirst.slice(0, first).every((f: any) => f.level < 2 || !/^ports\./.test(f.code)), 'before any port finding of its level')
    const advice = r.advice.find((a: any) => a.code === 'line.map_e')
    t.match(advice?.[lang], lang === 'ja' ? /IPv4 の 25 番ポートはこの回線では開けられません/ : /IPv4 port 25 can never be opened on this line/)
    t.match(advice?.[lang], /VPS/, 'with the real options, the VPS among them')
    t.notMatch(JSON.stringify(r), new RegExp(proof.slice(0, 20)), 'no proof in the report')
  }

  const plain = (await app.inject({ method: 'POST', url: '/api/v1/checks/all?lang=en', payload: { target: 'ipoe.test' }, remoteAddress: v4 })).json()
  t.equal(plain.line, undefined, 'one family proven: no line finding')
  t.notOk(plain.steps.some((s: any) => s.name === 'line'))
})
