// The ports check: can the internet reach the caller's mail ports at all?
// Connects to the caller's own IP (no DNS: the target rule allows exactly
// that address) on each requested port in parallel, each with its own
// deadline, and reads the greeting (TLS-wrapped on 465/993/995).
//
// Verdict, and why:
// - fail  when port 25 was requested and is not open: no other server can
//         deliver mail to you, whatever else works;
//         and when no requested port is open at all.
// - warn  when POP3 (110) or IMAP (143) is open without any way to protect
//         the password (no 995/993 open, no STLS/STARTTLS offered), or when
//         an implicit-TLS port (465/993/995) is open but its TLS handshake fails.
// - pass  otherwise. Ports other than 25 that are refused or filtered are
//         reported with advice but do not lower the verdict: most home
//         servers run only some of the services in the default list.
import type { CheckContext, CheckDefinition } from './context.js'
import { ALLOWED_PORTS } from '../net/policy.js'
import { BadInputError, ProbeError, RefusalError } from '../errors.js'
import { LineReader, visible } from '../pop3/lines.js'
import type { GuardedSocket } from '../net/connect.js'
import { bi } from '../i18n/index.js'

export const DEFAULT_PORTS = [25, 110, 143, 465, 587, 993, 995] as const
const IMPLICIT_TLS = new Set([465, 993, 995])
const SERVICE: Record<number, string> = { 25: 'SMTP', 110: 'POP3', 143: 'IMAP', 465: 'SMTPS (submission over TLS)', 587: 'submission', 993: 'IMAPS', 995: 'POP3S' }

export interface PortsInput { ports?: unknown }

/** open: greets (or speaks TLS on 465/993/995); silent: accepts the connection but never greets */
export type PortState = 'open' | 'silent' | 'refused' | 'filtered'

export interface PortResult {
  port: number
  state: PortState
  banner?: string
  ms: number
  /** implicit-TLS ports: did the handshake succeed */
  tls?: boolean
  /** POP3 STLS / IMAP STARTTLS offered on the plain port (when it could be seen) */
  starttls?: boolean
  detail?: string
}

/** Validates the port list: integers among the mail ports, deduplicated, in the order given. */
export function parsePorts (input: unknown): number[] {
  if (input === undefined || input === null) return [...DEFAULT_PORTS]
  if (!Array.isArray(input)) throw new BadInputError('ports must be a list of port numbers', 'ports')
  if (input.length === 0) throw new BadInputError('ports is empty; leave it out to test the default mail ports', 'ports')
  if (input.length > 32) throw new BadInputError('ports lists too many entries', 'ports')
  const out: number[] = []
  for (const p of input) {
    if (typeof p !== 'number' || !Number.isInteger(p)) throw new BadInputError('ports must contain whole numbers', 'ports')
    if (!ALLOWED_PORTS.includes(p)) throw new BadInputError(`port ${p} is not a mail port mxprobe tests (allowed: ${ALLOWED_PORTS.join(', ')})`, 'ports')
    if (!out.includes(p)) out.push(p)
  }
  return out
}

/** Greeting wait for the ports check: short, a banner is a bonus here (the SMTP check waits longer). */
function bannerWaitMs (ctx: CheckContext): number {
  return Math.min(ctx.settings.bannerTimeoutMs, 5000)
}

/** Send a polite goodbye in the port's protocol so the server logs a clean end, not an abort. */
function goodbye (port: number): string {
  return port === 143 || port === 993 ? 'a1 LOGOUT\r\n' : 'QUIT\r\n'
}

async function probePort (ctx: CheckContext, port: number): Promise<PortResult> {
  const r = ctx.report
  const t0 = Date.now()
  const tlsPort = IMPLICIT_TLS.has(port)
  let g: GuardedSocket
  try {
    g = await ctx.connect(ctx.callerIp, port, {
      tls: tlsPort,
      deadline: Math.min(ctx.deadline, t0 + ctx.settings.connectTimeoutMs + bannerWaitMs(ctx) + 2000)
    })
  } catch (err) {
    const ms = Date.now() - t0
    if (!(err instanceof ProbeError)) throw err
    switch (err.kind) {
      case 'refused':
      case 'closed':
        r.line('I', bi(ctx.lang, `ポート ${port}: 接続を拒否されました`, `port ${port}: ${err.message}`))
        return { port, state: 'refused', ms, detail: bi(ctx.lang, '', err.message) }
      case 'tls':
        // TCP was accepted, the TLS handshake failed: something listens, but not a TLS service.
        r.line('I', bi(ctx.lang, `ポート ${port}: TLS ハンドシェイクに失敗しました (${err.message})`, `port ${port}: ${err.message}`))
        return { port, state: 'open', ms, tls: false, detail: err.message }
      default:
        // timeout, unreachable (ICMP prohibited), deadline: packets are dropped or blocked on the way.
        r.line('I', bi(ctx.lang, `ポート ${port}: 応答がありません`, `port ${port}: ${err.message}`))
        return { port, state: 'filtered', ms, detail: bi(ctx.lang, '', err.message) }
    }
  }
  const ms = Date.now() - t0
  const res: PortResult = { port, state: 'open', ms }
  if (tlsPort) res.tls = true
  r.line('I', bi(ctx.lang, `ポート ${port}: 接続しました${tlsPort ? ' (TLS)' : ''} (${ms} ミリ秒)`, `port ${port}: connected${tlsPort ? ' (TLS)' : ''} in ${ms} ms`))
  const reader = new LineReader(g.socket, { maxLine: 4096 })
  try {
    const first = await reader.next(bannerWaitMs(ctx), 'greeting')
    res.banner = visible(first, 300)
    r.line('S', `[${port}] ${visible(first)}`)
    // A multi-line SMTP greeting (220-...): the first line is the banner; we do not wait for the rest.
    if (port === 110 && first.startsWith('+OK')) {
      // Whether STLS is offered decides the cleartext-password warning; CAPA is one short command.
      g.socket.write('CAPA\r\n')
      r.line('C', `[${port}] CAPA`)
      const caps: string[] = []
      const first2 = await reader.next(ctx.settings.commandTimeoutMs, 'CAPA answer')
      r.line('S', `[${port}] ${visible(first2)}`)
      if (first2.startsWith('+OK')) {
        for (let i = 0; i < 100; i++) {
          const l = await reader.next(ctx.settings.commandTimeoutMs, 'CAPA list')
          if (l === '.') break
          caps.push(l.toUpperCase())
          r.line('S', `[${port}] ${visible(l)}`)
        }
      }
      res.starttls = caps.some((c) => c.split(/\s+/)[0] === 'STLS')
    } else if (port === 143 && /^\* (OK|PREAUTH)/i.test(first)) {
      const m = first.match(/\[CAPABILITY ([^\]]*)\]/i)
      if (m) {
        res.starttls = /(^|\s)STARTTLS(\s|$)/i.test(m[1])
      } else {
        // No capabilities in the greeting: ask (RFC 9051 §6.1.1), to know whether STARTTLS protects the password.
        g.socket.write('a0 CAPABILITY\r\n')
        r.line('C', `[${port}] a0 CAPABILITY`)
        for (let i = 0; i < 20; i++) {
          const l = await reader.next(ctx.settings.commandTimeoutMs, 'CAPABILITY answer')
          r.line('S', `[${port}] ${visible(l)}`)
          if (/^\* CAPABILITY /i.test(l)) res.starttls = /(^|\s)STARTTLS(\s|$)/i.test(l)
          if (/^a0 /i.test(l)) break
        }
      }
    }
    g.socket.write(goodbye(port))
    r.line('C', `[${port}] ${goodbye(port).trim()}`)
  } catch (err) {
    if (!(err instanceof ProbeError)) throw err
    // Something accepted the connection; a port that never greets is no working service (often the router itself).
    if (err.kind === 'silent' || (err.kind === 'closed' && !res.banner)) {
      res.state = 'silent'
      res.detail = err.kind === 'silent'
        ? bi(ctx.lang, `${Math.round(bannerWaitMs(ctx) / 1000)} 秒待っても挨拶がありません`, `no greeting within ${Math.round(bannerWaitMs(ctx) / 1000)} s`)
        : bi(ctx.lang, '挨拶なしに切断されました', 'closed without a greeting')
    } else {
      res.detail = err.message
    }
    r.line('I', bi(ctx.lang, `ポート ${port}: ${res.detail}`, `port ${port}: ${res.detail}`))
  } finally {
    reader.detach()
    // Give the goodbye a moment to leave; the socket dies at its deadline anyway.
    setTimeout(() => g.close(), 50).unref?.()
  }
  return res
}

export const portsCheck: CheckDefinition<PortsInput, number[]> = {
  type: 'ports',
  probes: true,
  async prepare (ctx, input) {
    const ports = parsePorts(input?.ports)
    // The caller's own address must be a permissible target (not private, not opted out) before any socket.
    const v = ctx.connector.addressVerdict(ctx.callerIp)
    if (!v.ok) throw new RefusalError(v.code, `${ctx.callerIp}: ${v.reason}`, ctx.callerIp, null)
    ctx.report.target({ ip: ctx.callerIp })
    return ports
  },
  async run (ctx, ports) {
    const r = ctx.report
    const lang = r.lang
    const results = await Promise.all(ports.map((p) => probePort(ctx, p)))
    r.set('ports', results)
    const byPort = new Map(results.map((x) => [x.port, x]))
    const open = (p: number) => byPort.get(p)?.state === 'open'
    const stateText = (x: PortResult): string => ({
      open: bi(lang, '開いています', 'open'),
      silent: bi(lang, '接続できるが挨拶なし', 'accepts, never greets'),
      refused: bi(lang, '拒否 (待ち受けなし)', 'refused (nothing listens)'),
      filtered: bi(lang, '応答なし (遮断)', 'no answer (filtered)')
    })[x.state]

    const silent: number[] = []
    const closedOthers: PortResult[] = []
    for (const x of results) {
      const name = `port ${x.port} (${SERVICE[x.port]})`
      const critical = x.port === 25
      if (x.state === 'open') {
        if (x.tls === false) {
          r.step(name, 'warn', bi(lang, `開いていますが TLS に失敗しました: ${x.detail}`, `open, but TLS failed: ${x.detail}`), x.ms)
          r.advise('ports.tls_failed', { port: x.port, reason: x.detail })
        } else {
          r.step(name, critical ? 'pass' : 'info', x.banner ? `${stateText(x)}: ${x.banner}` : stateText(x), x.ms)
        }
      } else if (x.state === 'silent') {
        r.step(name, critical ? 'fail' : 'warn', `${stateText(x)}${x.detail ? ` (${x.detail})` : ''}`, x.ms)
        silent.push(x.port)
      } else {
        r.step(name, critical ? 'fail' : 'info', `${stateText(x)}${x.detail ? `: ${x.detail}` : ''}`, x.ms)
        if (critical) {
          if (x.state === 'refused') r.advise('ports.refused', { port: 25, ip: ctx.callerIp })
          else r.advise('ports.filtered_25', { port: 25, ip: ctx.callerIp })
        } else {
          closedOthers.push(x)
        }
      }
    }
    // One paragraph per cause, not one per port.
    if (silent.length) r.advise('ports.silent', { port: silent.includes(25) ? 25 : silent[0], ports: silent.join(', '), ip: ctx.callerIp, seconds: Math.round(bannerWaitMs(ctx) / 1000) })
    if (closedOthers.length) {
      r.advise('ports.others_closed', { ports: closedOthers.map((x) => x.port).join(', '), refused: closedOthers.filter((x) => x.state === 'refused').map((x) => x.port).join(', '), filtered: closedOthers.filter((x) => x.state === 'filtered').map((x) => x.port).join(', '), ip: ctx.callerIp })
    }

    if (open(110) && !open(995) && byPort.get(110)?.starttls !== true) {
      r.step('ports-cleartext-pop3', 'warn', bi(lang, '110 番は開いていますが、995 番 (TLS) も STLS もありません', 'port 110 is open, without port 995 (TLS) or STLS'))
      r.advise('ports.cleartext_pop3', { ip: ctx.callerIp })
    }
    if (open(143) && !open(993) && byPort.get(143)?.starttls !== true) {
      r.step('ports-cleartext-imap', 'warn', bi(lang, '143 番は開いていますが、993 番 (TLS) も STARTTLS もありません', 'port 143 is open, without port 993 (TLS) or STARTTLS'))
      r.advise('ports.cleartext_imap', { ip: ctx.callerIp })
    }
    const openList = results.filter((x) => x.state === 'open').map((x) => x.port)
    if (openList.length === 0 && silent.length === 0) {
      r.step('ports-none-open', 'fail', bi(lang, `ポート ${ports.join(', ')} のどれにも接続できません`, `none of ports ${ports.join(', ')} is reachable`))
      r.advise('ports.none_open', { ip: ctx.callerIp })
    }
    const notOpen = results.filter((x) => x.state !== 'open')
    const summary = openList.length === 0 && silent.length
      ? bi(lang, `${ctx.callerIp}: ポート ${silent.join(', ')} は接続できるが挨拶なし${notOpen.length > silent.length ? `、その他 ${notOpen.filter((x) => x.state !== 'silent').map((x) => `${x.port} (${stateText(x)})`).join(', ')}` : ''}`,
        `${ctx.callerIp}: ports ${silent.join(', ')} accept but never greet${notOpen.length > silent.length ? `; not open ${notOpen.filter((x) => x.state !== 'silent').map((x) => `${x.port} (${x.state})`).join(', ')}` : ''}`)
      : openList.length === 0
        ? bi(lang, `${ctx.callerIp} ではポート ${ports.join(', ')} のどれにも接続できません`, `none of ports ${ports.join(', ')} is reachable on ${ctx.callerIp}`)
        : bi(lang, `${ctx.callerIp}: 開いているポート ${openList.join(', ')}`, `${ctx.callerIp}: open ${openList.join(', ')}`) +
        (notOpen.length ? bi(lang, `、開いていないポート ${notOpen.map((x) => `${x.port} (${stateText(x)})`).join(', ')}`, `; not open ${notOpen.map((x) => `${x.port} (${x.state})`).join(', ')}`) : '')
    r.finish(summary)
  }
}
