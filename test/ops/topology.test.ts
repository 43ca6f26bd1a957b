// The docker-compose topology without Docker: two real app processes
// (src/server.ts, the `npm start` entry), the machine's Redis, and Debian's nginx
// started by this test with its own config in a tmp dir. Requests go through
// nginx with real X-Forwarded-For, from chosen loopback source addresses.
import t from 'tap'
import http from 'node:http'
import { spawn } from 'node:child_process'
import { writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startDns, reverseName } from '../fixtures/dns.js'
import { randomLoopback, uniquePrefix, REDIS_URL, requireTool } from '../helpers.js'
import { serverEntry, startServer, startScriptedServer, sseClient, freePort, tmpDir, ROOT } from './fixtures.js'

// Server processes start in this file; tap's default 120 s per file is too tight on a loaded CI machine.
t.setTimeout(300_000)

const nginxAddr = randomLoopback()
const home = randomLoopback()
const stranger = randomLoopback()

function get (url: string, localAddress: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string, headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress, headers, agent: false }, (res) => {
      let s = ''
      res.setEncoding('utf8').on('data', (d) => { s += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: s, headers: res.headers }))
    }).on('error', reject)
  })
}

function post (url: string, body: unknown, localAddress: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body)
    const req = http.request(url, { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)), ...headers } }, (res) => {
      let s = ''
      res.setEncoding('utf8').on('data', (d) => { s += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: s }))
    })
    req.on('error', reject)
    req.end(data)
  })
}

t.test('two instances behind nginx on one Redis', async (t) => {
  if (!requireTool(t, 'root', 'nginx')) return
  const dns = await startDns({
    'home.example': { MX: [{ exchange: 'mx.home.example', priority: 10 }] },
    'mx.home.example': { A: [home] },
    [reverseName(home)]: { PTR: ['mx.home.example'] }
  })
  t.teardown(() => dns.close())
  const smtp = await startScriptedServer(home, 25, { delayMs: 1500, banner: '220 mx.home.example ESMTP behind-nginx\r\n' })
  t.teardown(() => smtp.close())

  const build = { serverJs: serverEntry() }
  const prefix = uniquePrefix()
  const [portA, portB, portLb, portPinA, portPinB] = [await freePort(), await freePort(), await freePort(nginxAddr), await freePort(nginxAddr), await freePort(nginxAddr)]
  const env = {
    HOST: '127.0.0.1',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    TRUST_PROXY: nginxAddr,
    DNS_SERVERS: dns.server,
    TARGET_ALLOW_CIDRS: '127.0.0.0/8',
    HELO_NAME: 'probe.mxprobe.test',
    LOG_LEVEL: 'info',
    RATE_LIMITS: 'dns=4/60',
    BANNER_TIMEOUT_MS: '4000',
    CHECK_DEADLINE_MS: '10000'
  }
  const [a, b] = await Promise.all([startServer(build.serverJs, { ...env, PORT: String(portA) }), startServer(build.serverJs, { ...env, PORT: String(portB) })])
  t.teardown(async () => { await a.stop(); await b.stop() })

  // nginx: the deploy/nginx.conf http block with loopback upstreams; two extra
  // listeners pinned to one instance each, so the test knows which one served.
  const prefixDir = tmpDir('nginx')
  const deployed = readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8')
  const serverBlock = deployed.slice(deployed.indexOf('  server {'), deployed.lastIndexOf('}')).trim()
  const withListen = (listen: string, upstream: string) => serverBlock
    .replace(/listen 80;\n\s*listen \[::\]:80;/, `listen ${listen};`)
    .replaceAll('http://mxprobe', `http://${upstream}`)
  const conf = `
pid ${prefixDir}/nginx.pid;
user root;
worker_processes 1;
error_log ${prefixDir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${prefixDir}/access.log;
  client_body_temp_path ${prefixDir}/body;
  proxy_temp_path ${prefixDir}/proxy;
  fastcgi_temp_path ${prefixDir}/fastcgi;
  uwsgi_temp_path ${prefixDir}/uwsgi;
  scgi_temp_path ${prefixDir}/scgi;
  client_max_body_size 64k;
  # connections to the apps come from nginx's own address: TRUST_PROXY names exactly it
  proxy_bind ${nginxAddr};
  upstream mxprobe { server 127.0.0.1:${portA}; server 127.0.0.1:${portB}; keepalive 8; }
  upstream only_a { server 127.0.0.1:${portA}; keepalive 8; }
  upstream only_b { server 127.0.0.1:${portB}; keepalive 8; }
  ${withListen(`${nginxAddr}:${portLb}`, 'mxprobe')}
  ${withListen(`${nginxAddr}:${portPinA}`, 'only_a')}
  ${withListen(`${nginxAddr}:${portPinB}`, 'only_b')}
}
`
  writeFileSync(join(prefixDir, 'nginx.conf'), conf)
  const nginx = spawn('nginx', ['-e', join(prefixDir, 'error.log'), '-c', join(prefixDir, 'nginx.conf'), '-p', prefixDir, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let nginxErr = ''
  nginx.stderr!.on('data', (d) => { nginxErr += d })
  const nginxExit = new Promise((resolve) => nginx.on('exit', resolve))
  t.teardown(async () => { nginx.kill('SIGQUIT'); await nginxExit })
  const lb = `http://${nginxAddr}:${portLb}`
  const viaA = `http://${nginxAddr}:${portPinA}`
  const viaB = `http://${nginxAddr}:${portPinB}`
  for (let i = 0; i < 100; i++) {
    try { if ((await get(`${lb}/healthz`, home)).status === 200) break } catch {}
    if (nginx.exitCode !== null) throw new Error(`nginx exited: ${nginxErr} ${readFileSync(join(prefixDir, 'error.log'), 'utf8')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  t.test('caller IP is the address nginx saw', async (t) => {
    const me = JSON.parse((await get(`${lb}/api/v1/ip`, home)).body)
    const { proof, ...rest } = me
    t.match(proof, /^[A-Za-z0-9_-]{20,512}$/, 'a proof comes with the address')
    t.same(rest, { ip: home, family: 4, ptr: 'mx.home.example' })
    const spoofed = JSON.parse((await get(`${lb}/api/v1/ip`, home, { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' })).body)
    t.equal(spoofed.ip, home, 'a client-sent X-Forwarded-For does not choose the address')
    const other = JSON.parse((await get(`${lb}/api/v1/ip`, stranger, { 'x-forwarded-for': home })).body)
    t.equal(other.ip, stranger, 'a stranger cannot claim to be the home server')
    // straight to an app (not through nginx): the header is not believed at all
    const direct = JSON.parse((await get(`http://127.0.0.1:${portA}/api/v1/ip`, stranger, { 'x-forwarded-for': home })).body)
    t.equal(direct.ip, stranger)
    // round robin: both instances served (a report lookup is logged; /api/v1/ip is not, by design)
    for (let i = 0; i < 4; i++) t.equal((await get(`${lb}/api/v1/checks/AAAAAAAAAAAAAAAA`, home)).status, 404)
    const served = (p: typeof a) => p.logs.filter((l) => l.url === '/api/v1/checks/AAAAAAAAAAAAAAAA').length
    t.ok(served(a) > 0 && served(b) > 0, `both instances served (${served(a)} / ${served(b)})`)
  })

  t.test('a refused mail check names the address nginx saw', async (t) => {
    // stranger is not an MX address of home.example: 403 before any socket, with stranger's IP
    const r = await post(`${lb}/api/v1/checks/dns`, { domain: 'home.example' }, stranger, { 'x-forwarded-for': home })
    t.equal(r.status, 200)
    const report = JSON.parse(r.body)
    t.equal(report.callerIp, stranger)
    t.equal(report.status, 'fail', 'the spoofed header did not make the stranger look like the MX')
  })

  t.test('rate limits are shared by both instances', async (t) => {
    const caller = randomLoopback()
    const codes: number[] = []
    for (const base of [viaA, viaB, viaA, viaB, viaA, viaB]) {
      codes.push((await post(`${base}/api/v1/checks/dns`, { domain: 'home.example' }, caller)).status)
    }
    t.same(codes, [200, 200, 200, 200, 429, 429], 'dns=4/60 counted across A and B')
    const other = randomLoopback()
    t.equal((await post(`${viaB}/api/v1/checks/dns`, { domain: 'home.example' }, other)).status, 200, 'per caller, as seen through nginx')
  })

  t.test('SSE through nginx from instance B follows a check running on A', async (t) => {
    const started = await post(`${viaA}/api/v1/checks/ports?async=1`, { ports: [25] }, home)
    t.equal(started.status, 202, started.body)
    const id = JSON.parse(started.body).id
    const sse = sseClient(`${viaB}/api/v1/checks/${id}/events`, { localAddress: home })
    // the first event arrives before the check ends: nginx does not buffer the stream
    // (with buffering, the first events would come together with `done`, when the stream ends)
    for (let i = 0; i < 1000 && sse.events.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    t.ok(sse.events.length > 0 && !sse.events.some((e) => e.event === 'done'), 'events flow while the check still runs (before the slow banner)')
    const events = await sse.done
    t.equal(sse.status, 200)
    t.ok(events.some((e) => e.event === 'transcript' && e.data.includes('behind-nginx')), 'the banner seen on A is streamed by B')
    t.equal(events.at(-1)?.event, 'done')
    t.equal(JSON.parse(events.at(-1)!.data).status, 'pass')
    t.ok(a.logs.some((l) => l.audit === 'probe' && l.checkId === id), 'A ran the probe')
    t.notOk(b.logs.some((l) => l.audit === 'probe' && l.checkId === id), 'B did not')
    // B writes its line when the stream ends; its stdout may reach us a moment after the client saw `done`.
    const servedByB = () => b.logs.some((l) => l.msg === 'event stream ended' && l.checkId === id)
    for (let i = 0; i < 100 && !servedByB(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    t.ok(servedByB(), 'B served the stream')
  })
})
