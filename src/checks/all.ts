// The one diagnosis (まとめて診断): from a domain, a mail address or a URL,
// start the single checks (dns, ports, smtp, receive, roles, relay, tls, and
// pop3 when credentials are given) as children, each a full stored report of its
// own, follow them live, and end with what to fix first.
//
// Concurrency. The diagnosis itself opens no socket, so it holds no slot
// (`probes: false`): only its children do, exactly like single checks. It
// starts them one after another in a fixed order; when the caller's slots
// (CONCURRENCY_PER_CALLER) or mxprobe's are all taken, it waits until one of
// its own children ends (or a short while, when the slots are held by the
// caller's other checks) and tries again, up to one check deadline plus the
// slot TTL. It can therefore never wait for a slot it holds itself, however
// small the limit: with a limit of 1 the children simply run one by one.
//
// Handshakes are shared: the smtp check's STARTTLS on 25 (and the pop3
// check's 995 and 110) go into one HandshakeMemo, and the tls check takes
// them instead of connecting again (src/core/handshakes.ts).
//
// Knows no HTTP: the route (routes/checks-all.ts) gives it the runner.
import type { CheckContext, CheckDefinition } from './context.js'
import { CheckRunner, TooBusyError, type Started } from './runner.js'
import type { Report, ReportEvent, Status } from '../core/report.js'
import { understandTarget, understoodText, type UnderstoodTarget } from './target-input.js'
import { mailTargetFor, dnsFacts } from './mailhosts.js'
import { validateCredentials } from './pop3.js'
import { dnsCheck } from './dns.js'
import { portsCheck } from './ports.js'
import { smtpCheck } from './smtp.js'
import { receiveCheck } from './receive.js'
import { rolesCheck } from './roles.js'
import { relayCheck } from './relay.js'
import { pop3Check } from './pop3.js'
import { tlsCheck } from './tls.js'
import { HandshakeMemo } from '../core/handshakes.js'
import { ReportBuilder } from '../core/report.js'
import { recognizeLine, portsText, NO_LINE_RULES, type LineFacts } from '../net/line.js'
import { fixFirstAdvice, classify, worstInWords, type FixItem } from './fix-order.js'
import { causeWords } from '../i18n/fix-order.js'
import { BadInputError, RefusalError } from '../errors.js'
import { bi, type Lang } from '../i18n/index.js'
import { checkName } from '../i18n/checks.js'

export interface AllInput {
  /** a domain, a mail address or a URL */
  target: string
  /** POP3 login (over TLS only), optional */
  username?: string
  password?: string
}

export type ChildType = 'dns' | 'ports' | 'smtp' | 'receive' | 'roles' | 'relay' | 'tls' | 'pop3'

/** The children every diagnosis runs, in the order they are shown; pop3 joins when credentials are given. */
export const CHILD_TYPES: readonly ChildType[] = ['dns', 'ports', 'smtp', 'receive', 'roles', 'relay', 'tls', 'pop3']

/** One child as the parent report lists it. */
export interface ChildLink {
  type: ChildType
  /** the child's own report (`/api/v1/checks/:id`); null until it started, or when it could not start */
  id: string | null
  /** queued → running → pass | warn | fail | error */
  status: Status | 'queued' | 'running'
  /** the check's name for people, in the report's language */
  title: string
  /** the title of the step it is in (while running) */
  stage?: string
  /** epoch ms at which the child is cut off, for a countdown (once started) */
  deadline?: number
  /** the child's summary (once finished), or why it could not start */
  summary?: string
}

export interface AllPlan {
  understood: UnderstoodTarget
  domain: string
  recipient: string
  credentials: { username: string, password: string } | null
}

export function childTitle (type: string, lang: Lang): string {
  return checkName(type, lang)
}

/**
 * Order in which children are started: the slow relay battery early, so the
 * whole ends sooner; smtp and pop3 before tls, which takes their handshakes.
 */
const START_ORDER: readonly ChildType[] = ['dns', 'ports', 'smtp', 'pop3', 'tls', 'relay', 'receive', 'roles']

/** The ports whose handshake a child shares with the tls check. */
const SHARES: Partial<Record<ChildType, number[]>> = { smtp: [25], pop3: [995, 110] }

const DEFS: Record<ChildType, CheckDefinition> = {
  dns: dnsCheck, ports: portsCheck, smtp: smtpCheck, receive: receiveCheck, roles: rolesCheck, relay: relayCheck, tls: tlsCheck, pop3: pop3Check
}

export interface AllDeps {
  runner: CheckRunner
  /** extra wait after a check deadline for a slot held elsewhere to free itself (the slot TTL margin) */
  slotWaitMarginMs?: number
}

/** The child checks a diagnosis of this input will start (for rate limits, before it runs). */
export function childTypesFor (input: Pick<AllInput, 'username' | 'password'>): ChildType[] {
  return CHILD_TYPES.filter((t) => t !== 'pop3' || input.username !== undefined || input.password !== undefined)
}

export function makeAllCheck (deps: AllDeps): CheckDefinition<AllInput, AllPlan> {
  return {
    type: 'all',
    probes: false,
    async prepare (ctx, input) {
      const u = understandTarget(input?.target, 'target')
      const credentials = validateCredentials({ domain: u.domain.ascii, username: input.username, password: input.password })
      const r = ctx.report
      r.target({ domain: u.domain.ascii })
      r.set('understood', { input: u.input, kind: u.kind, domain: u.domain.ascii, address: u.address?.address ?? null })
      if (u.kind !== 'domain' || u.input.toLowerCase().replace(/\.$/, '') !== u.domain.ascii) r.info(understoodText(ctx.lang, u))
      // The whole diagnosis is refused (403, with the classic mistakes) when the caller is not the domain's mail server.
      const v = ctx.connector.addressVerdict(ctx.callerIp)
      if (!v.ok) throw new RefusalError(v.code, bi(ctx.lang, `${ctx.callerIp} はテストできません: ${v.reason}`, `${ctx.callerIp}: ${v.reason}`), ctx.callerIp, null)
      let target
      try {
        target = await mailTargetFor(ctx, u.domain.ascii)
      } catch (err) {
        // The refusal of the whole diagnosis is its first finding: the same list, in fixFirst's shape.
        if (err instanceof RefusalError) {
          const diagnosis = (err.extra.diagnosis as Array<{ code: string, message: string }> | undefined) ?? []
          err.extra.fixFirst = diagnosis.map((d) => {
            const k = classify(d)
            return { check: 'dns', code: d.code, message: d.message, ...(k ? { level: k.level, stage: k.stage, cause: causeWords(k.words, ctx.lang) } : {}) }
          })
          err.extra.understood = { input: u.input, kind: u.kind, domain: u.domain.ascii, address: u.address?.address ?? null }
        }
        throw err
      }
      const { match, mailHosts } = target
      r.target({ host: match.host.host, ip: match.address.address })
      r.set('dns', dnsFacts(mailHosts))
      const recipient = u.address?.address ?? `postmaster@${u.domain.ascii}`
      return { understood: u, domain: u.domain.ascii, recipient, credentials }
    },
    async run (ctx, plan) {
      await runDiagnosis(ctx, plan, deps)
    }
  }
}

function childInput (type: ChildType, plan: AllPlan): unknown {
  switch (type) {
    case 'ports': return {}
    case 'receive': return { address: plan.recipient }
    case 'pop3': return plan.credentials ? { domain: plan.domain, ...plan.credentials } : { domain: plan.domain }
    default: return { domain: plan.domain }
  }
}

async function runDiagnosis (ctx: CheckContext, plan: AllPlan, deps: AllDeps): Promise<void> {
  const r = ctx.report
  const lang = ctx.lang
  const types = CHILD_TYPES.filter((t) => t !== 'pop3' || plan.credentials !== null)
  const children: ChildLink[] = types.map((type) => ({ type, id: null, status: 'queued', title: childTitle(type, lang) }))
  const byType = new Map(children.map((c) => [c.type, c]))
  const reports = new Map<ChildType, Report>()
  r.set('children', children)

  const announce = (c: ChildLink, phase: 'queued' | 'started' | 'stage' | 'finished'): void => {
    r.event('child', { phase, ...c })
  }
  for (const c of children) announce(c, 'queued')

  // A child ending wakes the launcher waiting for a slot.
  let wake: () => void = () => {}
  const woken = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    wake = () => { clearTimeout(t); resolve() }
  })

  const handshakes = new HandshakeMemo()
  for (const type of types) handshakes.expect(...(SHARES[type] ?? []))
  const settle = (type: ChildType): void => { handshakes.settle(...(SHARES[type] ?? [])) }

  const margin = deps.slotWaitMarginMs ?? 10_000
  const running: Array<Promise<void>> = []
  for (const type of START_ORDER) {
    const c = byType.get(type)
    if (!c) continue
    const until = Date.now() + ctx.settings.checkDeadlineMs + margin
    let started: Started | null = null
    for (;;) {
      try {
        started = await deps.runner.start(DEFS[type], childInput(type, plan), ctx.caller, lang, {
          handshakes,
          onEvent: (ev: ReportEvent) => {
            if (ev.type === 'step' && c.status === 'running') {
              c.stage = ev.data.title
              announce(c, 'stage')
            }
          }
        })
        break
      } catch (err) {
        if (err instanceof TooBusyError && Date.now() < until) {
          await woken(250)
          continue
        }
        notStarted(ctx, c, err)
        announce(c, 'finished')
        break
      }
    }
    if (!started) { settle(type); continue }
    c.id = started.id
    c.status = 'running'
    c.deadline = started.deadline
    r.info(bi(lang, `${c.title}: 開始 (${started.id})`, `${c.title}: started (${started.id})`))
    announce(c, 'started')
    running.push(started.done.then((rep) => {
      reports.set(type, rep)
      c.status = rep.status === 'running' ? 'error' : rep.status
      c.summary = rep.summary
      delete c.stage
      r.step(`child ${type}`, c.status, rep.summary)
      announce(c, 'finished')
    }, (err) => {
      notStarted(ctx, c, err)
      announce(c, 'finished')
    }).finally(() => { settle(type); wake() }))
  }
  await Promise.all(running)

  const list: Array<Pick<Report, 'id' | 'type' | 'advice' | 'status'>> = [...reports.values()]
  const line = lineFinding(ctx)
  if (line) list.unshift(line)
  const merged = fixFirstAdvice(list, lang)
  const fix: FixItem[] = merged.map((x) => x.item)
  r.set('fixFirst', fix)
  // The parent's advice is the fix-first list itself (one paragraph per cause), so every renderer shows it.
  for (const { advice } of merged) r.advise(advice.code, advice.params ?? {})
  // Every child ended in a `child <type>` step (its own verdict, or why it did not run).
  const status = r.verdict()
  r.finish(verdict(lang, plan.domain, status, fix, children))
}

/**
 * The caller's line, when it proved both families (src/net/line.ts): a step, the facts, and for
 * MAP-E or DS-Lite the advice that IPv4 port 25 cannot be opened, ranked with the reach findings.
 */
function lineFinding (ctx: CheckContext): Pick<Report, 'id' | 'type' | 'advice' | 'status'> | null {
  const facts: LineFacts | null = recognizeLine(ctx.caller, ctx.settings.lineRules ?? NO_LINE_RULES)
  if (!facts) return null
  const r = ctx.report
  const lang = ctx.lang
  r.set('line', facts)
  if (facts.kind === 'unknown') {
    r.step('line', 'info', bi(lang, 'IPv4 と IPv6 の両方のアドレスを確認しましたが、回線の種類 (MAP-E や DS-Lite で IPv4 を共有しているか) は分かりませんでした。知られたルールに当てはまりません', 'both your IPv4 and IPv6 addresses are proven, but the line type (shared IPv4 over MAP-E or DS-Lite) could not be determined: no known rule matches'))
    return null
  }
  // The advice, written as a child report's would be, so that the fix-first list ranks it.
  const b = new ReportBuilder('all', ctx.callerIp, lang)
  if (facts.kind === 'map-e') {
    r.step('line', facts.port25 ? 'info' : 'warn', bi(lang,
      `${facts.service} (MAP-E): IPv4 アドレス ${facts.ipv4} をほかの家庭と共有し、使えるポートは ${facts.portCount} 個 (${portsText(facts.ports)})${facts.port25 ? '' : '。25 番は含まれません'}`,
      `${facts.service} (MAP-E): ${facts.ipv4} shared, ${facts.portCount} ports yours (${portsText(facts.ports)})${facts.port25 ? '' : '; 25 is not among them'}`))
    if (!facts.port25) b.advise('line.map_e', { service: facts.service, ipv4: facts.ipv4, count: facts.portCount, ports: portsText(facts.ports), prefix: facts.ipv6Prefix, source: facts.source })
  } else {
    r.step('line', 'warn', bi(lang, `${facts.service} (DS-Lite): IPv4 ではどのポートも開けられません`, `${facts.service} (DS-Lite): no IPv4 port can be opened`))
    b.advise('line.ds_lite', { service: facts.service, source: facts.source })
  }
  return { id: r.report.id, type: 'all', advice: b.report.advice, status: 'warn' }
}

function notStarted (ctx: CheckContext, c: ChildLink, err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err)
  // A refusal of one child (its own target rule) is a finding; anything else is mxprobe's trouble.
  c.status = err instanceof RefusalError ? 'fail' : err instanceof BadInputError ? 'fail' : 'error'
  c.summary = msg
  // A refused child has a stored report of its own (its permalink, its DNS facts).
  if (err instanceof RefusalError && typeof err.extra.id === 'string') c.id = err.extra.id
  delete c.stage
  ctx.report.step(`child ${c.type}`, c.status, msg)
  ctx.report.advise('diag.child_not_run', { check: c.title, reason: msg, type: c.type })
  if (!(err instanceof TooBusyError) && !(err instanceof RefusalError) && !(err instanceof BadInputError)) ctx.log.error({ err, child: c.type }, 'child check failed to start')
}

/** The short verdict: how it went, and the first thing to fix. */
export function verdict (lang: Lang, domain: string, status: Status, fix: FixItem[], children: ChildLink[]): string {
  const bad = children.filter((c) => c.status === 'fail' || c.status === 'error').length
  if (status === 'pass') {
    return bi(lang, `${domain}: 問題は見つかりませんでした。${children.length} 項目のテストがすべて正常です。`, `${domain}: no problems found; all ${children.length} tests passed.`)
  }
  // The worst cause in words (「第三者中継になっています。すぐに直してください。」), not a check's name.
  const worst = worstInWords(fix[0], lang)
  const first = worst ? (lang === 'ja' ? worst : ` ${worst}`) : ''
  if (status === 'warn') {
    return bi(lang, `${domain}: メールは受信できますが、注意点が ${fix.length} 件あります。`, `${domain}: mail gets through, with ${fix.length} point${fix.length === 1 ? '' : 's'} to improve.`) + first
  }
  return bi(lang, `${domain}: ${children.length} 項目中 ${bad} 項目のテストで問題が見つかりました。`, `${domain}: ${bad} of ${children.length} tests found problems.`) + first
}
