// The open-relay check: does the caller's MX carry mail for strangers?
// Runs the battery from src/smtp/relay.ts against the caller's MX address
// (MAIL + RCPT + RSET per vector, never DATA) and judges the RCPT answers.
//
// Verdict:
// - fail  any RCPT to an outside recipient was accepted (2xx). Said as
//         "accepted at RCPT: possibly an open relay", because some servers
//         accept every RCPT and bounce later; that is still abusable.
// - warn  nothing was accepted, but the server demanded authentication
//         (530) before the battery could run, or some refusals were only
//         temporary (4xx: greylisting hides the real policy).
// - pass  every attempt was refused with 5xx.
// A vector whose sender was refused and that could not be retried with an
// accepted sender is "untested": it counts neither as refused nor as
// accepted, and the summary says how many attempts the server really
// judged. Once a plain vector (the outside recipient as it is) is
// accepted, the battery starts no further attempt: the rest are "not
// tried" (stage not_tried), a state of their own, neither refused nor
// untested, and the summary says how many were really tried and why. Advice is one paragraph per cause (plain relaying, address
// tricks, temporary refusals …), never one per vector.
import type { CheckDefinition } from './context.js'
import { validateDomain } from '../dns/names.js'
import { BadInputError } from '../errors.js'
import { mailTargetFor } from './mailhosts.js'
import { relayVectors, runEnvelopes, type Envelope, type EnvelopeResult } from '../smtp/relay.js'
import { bi } from '../i18n/index.js'
import { ProbeError } from '../errors.js'
import type { CheckContext } from './context.js'
import { adviseUnreachable } from './smtp.js'

export interface RelayInput { domain: string }

export interface RelayPlan { domain: string, host: string, ip: string, outside: string }

export interface RelayVector extends EnvelopeResult {
  nmap: boolean
  note: string
}

function related (a: string, b: string): boolean {
  return a === b || a.endsWith('.' + b) || b.endsWith('.' + a)
}

export const relayCheck: CheckDefinition<RelayInput, RelayPlan> = {
  type: 'relay',
  probes: true,
  async prepare (ctx, input) {
    const d = validateDomain(input.domain)
    const outside = ctx.settings.relayProbeDomain.toLowerCase()
    // If the "outside" domain is the tested domain (or inside it), a 250 means local delivery, not relaying.
    if (related(d.ascii, outside)) {
      throw new BadInputError(`${d.ascii} is this mxprobe's own relay-probe domain (${outside}); relay tests need an outside domain (RELAY_PROBE_DOMAIN)`, 'domain')
    }
    const { match } = await mailTargetFor(ctx, d.ascii)
    ctx.report.target({ domain: d.ascii, host: match.host.host, ip: match.address.address })
    return { domain: d.ascii, host: match.host.host, ip: match.address.address, outside }
  },
  async run (ctx, plan) {
    const r = ctx.report
    const L = r.lang
    const envelopes = relayVectors({ domain: plan.domain, host: plan.host, ip: plan.ip, outside: plan.outside })
    const byId = new Map<string, Envelope>(envelopes.map((e) => [e.id, e]))
    r.info(bi(L,
      `第三者中継テスト: ${envelopes.length} 通りの宛先・差出人の組み合わせを外部ドメイン ${plan.outside} 宛てに試します (MAIL + RCPT + RSET のみ。DATA は送らないので、メールは 1 通も送られません)`,
      `relay battery: ${envelopes.length} attempts (MAIL + RCPT + RSET, never DATA) to the outside domain ${plan.outside}`))
    let out: Awaited<ReturnType<typeof runEnvelopes>>
    try {
      out = await runEnvelopes(ctx, plan.ip, envelopes, {
        servername: plan.host,
        parallel: ctx.settings.parallelConnections,
        onResult: (x) => {
          const e = byId.get(x.id)!
          const st = !x.tested ? 'skip' : x.accepted ? 'fail' : x.code !== null && x.code >= 400 && x.code < 500 ? 'warn' : 'pass'
          r.step(`relay ${x.id}`, st, vectorDetail(L, x, e))
        }
      })
    } catch (err) {
      if (!(err instanceof ProbeError)) throw err
      // The server under test could not be talked to: that is its failure (fail), not mxprobe's (error).
      failUnreachable(ctx, err, plan.ip)
      return
    }
    const vectors: RelayVector[] = out.results.map((x) => ({
      ...x,
      // The engine's text is English; mxprobe's own words go out in the caller's language.
      ...(x.stage === 'not_tried' ? { reply: notTriedText(L, out.relaysPlain) } : {}),
      nmap: !!byId.get(x.id)?.nmap,
      note: (L === 'ja' ? byId.get(x.id)?.noteJa : byId.get(x.id)?.note) ?? ''
    }))
    const tried = vectors.filter((v) => v.tested)
    const notTried = vectors.filter((v) => v.stage === 'not_tried')
    const untested = vectors.filter((v) => !v.tested && v.stage !== 'not_run' && v.stage !== 'not_tried')
    const notRun = vectors.filter((v) => v.stage === 'not_run')
    const retried = vectors.filter((v) => v.retriedWith !== undefined && v.tested)
    r.set('vectors', vectors)
    r.set('relay', {
      outsideDomain: plan.outside,
      attempts: vectors.length,
      tested: tried.length,
      untested: untested.length,
      notTried: notTried.length,
      relaysPlain: out.relaysPlain,
      retried: retried.length,
      nmapTests: vectors.filter((v) => v.nmap).length,
      connections: out.connections,
      parallel: out.parallel,
      roundTrips: out.roundTrips,
      connectionTrips: out.connectionTrips,
      drops: out.drops,
      errorBudget: out.errorBudget,
      synprotBudget: out.synprotBudget,
      strict: out.strict,
      pipelining: out.pipelining,
      banner: out.banner,
      stoppedEarly: out.stoppedEarly,
      tls: out.tls,
      ms: out.ms
    })

    const accepted = vectors.filter((v) => v.accepted)
    const plain = accepted.filter((v) => !byId.get(v.id)?.trick)
    const tricks = accepted.filter((v) => byId.get(v.id)?.trick)
    const list = (vs: RelayVector[], max = 4): string => vs.slice(0, max).map((v) => `${v.retriedWith !== undefined ? v.retriedWith || '<>' : v.mailFrom || '<>'} → ${v.rcptTo}`).join(', ') + (vs.length > max ? ' …' : '')
    // One paragraph per cause, however many vectors showed it.
    if (plain.length) r.advise('relay.open', { count: plain.length, examples: list(plain), outside: plan.outside, notTried: notTried.length })
    if (tricks.length) r.advise('relay.open_trick', { count: tricks.length, forms: tricks.slice(0, 6).map((v) => v.rcptTo).join(', ') + (tricks.length > 6 ? ' …' : ''), outside: plan.outside })
    if (accepted.length) {
      r.advise('relay.mynetworks_hint', { ip: plan.ip })
    }
    const temporary = vectors.filter((v) => !v.accepted && v.code !== null && v.code >= 400 && v.code < 500)
    if (out.authRequired) {
      r.step('relay-auth', 'warn', bi(L, `サーバーが認証を要求しました: ${out.authRequired}`, `the server demanded authentication: ${out.authRequired}`))
      r.advise('relay.auth_required', { reply: out.authRequired })
    } else if (temporary.length) {
      r.advise('relay.temporary', { count: temporary.length, reply: temporary[0].reply })
    }
    if (untested.length) {
      const why = untested[0].senderReply ?? untested[0].reply ?? ''
      r.step('relay-untested', 'warn', bi(L,
        `${vectors.length} 件中 ${untested.length} 件は、差出人が拒否されたため試せませんでした (拒否理由の例: ${why})`,
        `${untested.length} of ${vectors.length} attempts could not be tried: their sender was refused (e.g. ${why})`))
      r.advise('relay.untested', { count: untested.length, total: vectors.length, reply: untested[0].senderReply ?? untested[0].reply })
    }
    if (retried.length) {
      r.step('relay-senders', 'info', bi(L,
        `差出人が拒否された ${retried.length} 件は、受け付けられた差出人 (${retried[0].retriedWith || '<>'}) で宛先の形式を試し直しました (拒否理由の例: ${retried[0].senderReply ?? ''})`,
        `${retried.length} attempts whose own sender was refused were retried with a sender the server accepts (${retried[0].retriedWith || '<>'}) so their recipient form was really tested (refusal, e.g.: ${retried[0].senderReply ?? ''})`))
    }
    if (out.drops) {
      r.step('relay-drops', 'info', bi(L,
        `サーバーが ${out.drops} 回接続を切りました。エラーの上限に合わせて 1 接続あたりの試行を減らして続けました (上限: エラー ${out.errorBudget} 回)`,
        `the server closed ${out.drops} connection${out.drops === 1 ? '' : 's'}; mxprobe kept each later connection under the error limit it learnt (${out.errorBudget} errors)`))
    }
    if (out.stoppedEarly && !accepted.length) {
      // Nothing accepted, but not everything tried: not a clean pass.
      r.step('relay-battery', 'warn', bi(L, `途中で打ち切りました: ${out.stoppedEarly}`, `incomplete: ${out.stoppedEarly}`))
    } else if (out.stoppedEarly) {
      r.step('relay-battery', 'info', bi(L, `途中で打ち切りました: ${out.stoppedEarly}`, `stopped early: ${out.stoppedEarly}`))
    }
    if (notTried.length) {
      r.step('relay-not-tried', 'info', bi(L,
        `細工のない外部宛てのメール (${out.relaysPlain ?? ''}) が第三者中継として受け付けられたので、残り ${notTried.length} 件は試していません (アドレスの細工を試しても判定は変わらないため)`,
        `${notTried.length} attempt${notTried.length === 1 ? ' was' : 's were'} not tried: the server already relays plain mail (${out.relaysPlain ?? ''} was accepted), so no address trick could change the verdict`))
    }
    r.step('relay-summary', 'info', bi(L,
      `${vectors.length} 件中 ${tried.length} 件をサーバーが判定 (接続 ${out.connections} 回、同時 ${out.parallel} 本、${out.pipelining ? 'パイプライン使用' : 'パイプラインなし'}、待ち時間の往復 ${out.roundTrips} 回、${out.ms} ms)`,
      `${tried.length} of ${vectors.length} attempts judged by the server (${out.connections} connections, ${out.parallel} at once, ${out.pipelining ? 'pipelined' : 'no PIPELINING'}, ${out.roundTrips} round trips on the longest chain, ${out.ms} ms)`))
    const status = r.verdict()
    if (status === 'pass') r.advise('relay.closed', { count: tried.length })
    const triedNote = notTried.length
      ? bi(L,
        `。細工のない外部宛てメールを中継することがわかったので、残り ${notTried.length} 件は試していません (実際に試したのは ${vectors.length} 件中 ${tried.length} 件)`,
        ` (${tried.length} of ${vectors.length} attempts really tried: the server already relays plain mail, so the other ${notTried.length} were not needed)`)
      : untested.length || notRun.length
        ? bi(L, ` (実際に判定できたのは ${vectors.length} 件中 ${tried.length} 件)`, ` (${tried.length} of ${vectors.length} attempts really tried)`)
        : ''
    const causes = (ja: boolean): string => [
      plain.length ? (ja ? `外部宛て ${plain.length} 件` : `${plain.length} plain`) : '',
      tricks.length ? (ja ? `アドレスの細工 ${tricks.length} 件` : `${tricks.length} address trick${tricks.length === 1 ? '' : 's'}`) : ''
    ].filter(Boolean).join(ja ? '、' : ', ')
    const summary = accepted.length
      ? bi(L,
        `RCPT の段階で第三者中継を受け付けました。オープンリレーの可能性があります (受け付けた後でエラーメールを返すサーバーもあります)。${tried.length} 件中 ${accepted.length} 件を受付: ${causes(true)}`,
        `accepted at RCPT: possibly an open relay; some servers accept and bounce later (${accepted.length} of ${tried.length} attempts accepted: ${causes(false)})`) + triedNote
      : out.authRequired
        ? bi(L, `試せた範囲ではオープンリレーではありません。サーバーが認証を要求しました (${out.authRequired})`, `not an open relay as far as tested: the server demanded authentication (${out.authRequired})`)
        : temporary.length
          ? bi(L, `中継は受け付けられませんでしたが、${tried.length} 件中 ${temporary.length} 件の拒否は一時的 (4xx) でした`, `no relay accepted, but ${temporary.length} of ${tried.length} refusals were temporary (4xx)`) + triedNote
          : out.stoppedEarly
            ? bi(L, `中継は受け付けられませんでしたが、テストは途中までです: ${out.stoppedEarly}`, `no relay accepted, but the battery was incomplete: ${out.stoppedEarly}`) + triedNote
            : untested.length
              ? bi(L, `中継は受け付けられませんでしたが、${untested.length} 件は差出人が拒否されたため試せませんでした`, `no relay accepted, but ${untested.length} attempts could not be tried because their sender was refused`) + triedNote
              : bi(L, `オープンリレーではありません: ${tried.length} 件の中継テストがすべて拒否されました`, `not an open relay: all ${tried.length} relay attempts were refused`)
    r.finish(summary)
  }
}

function vectorDetail (L: 'ja' | 'en', x: EnvelopeResult, e: Envelope): string {
  const from = x.retriedWith !== undefined ? x.retriedWith : x.mailFrom
  const env = `MAIL FROM:<${from}> RCPT TO:<${x.rcptTo}>`
  const retried = x.retriedWith !== undefined
    ? bi(L, ` (本来の差出人 <${x.mailFrom}> は拒否: ${x.senderReply ?? ''})`, ` (its own sender <${x.mailFrom}> was refused: ${x.senderReply ?? ''})`)
    : ''
  if (x.stage === 'not_run') return bi(L, `${env} → 未実施: ${x.reply ?? ''}`, `${env} → not run: ${x.reply ?? ''}`)
  if (!x.tested) return bi(L, `${env} → 試せませんでした (受け付けられる差出人がありません): ${x.senderReply ?? x.reply ?? ''} (${e.noteJa})`, `${env} → untested (no sender was accepted): ${x.senderReply ?? x.reply ?? ''} (${e.note})`)
  const verdict = x.accepted ? bi(L, '受付', 'ACCEPTED') : bi(L, '拒否', 'refused')
  return bi(L, `${env} → ${x.stage.toUpperCase()} で${verdict}: ${x.reply ?? ''}${retried} (${e.noteJa})`, `${env} → ${verdict} at ${x.stage.toUpperCase()}: ${x.reply ?? ''}${retried} (${e.note})`)
}

/** The reply text of a vector that was not needed: the server had already relayed plain mail. */
function notTriedText (L: 'ja' | 'en', by: string | null): string {
  return bi(L,
    `未実施: 細工のない外部宛てメールをすでに第三者中継したため不要です (${by ?? ''} が受付)`,
    `not tried: the server already relays plain mail (${by ?? ''} was accepted)`)
}

function failUnreachable (ctx: CheckContext, err: ProbeError, ip: string): void {
  const r = ctx.report
  const L = r.lang
  r.info(bi(L, `中止: ${err.message}`, `stopped: ${err.message}`))
  const port = err.port ?? 25
  const code: Record<string, [string, Record<string, unknown>]> = {
    refused: ['net.refused', { ip, port }],
    timeout: ['net.timeout', { ip, port }],
    unreachable: ['net.unreachable', { ip, reason: err.message }],
    closed: ['net.closed', { ip, port, when: '' }],
    silent: ['net.silent', { ip, port, ms: ctx.settings.bannerTimeoutMs }],
    deadline: ['net.deadline', { ms: ctx.settings.checkDeadlineMs }],
    byte_cap: ['net.byte_cap', { bytes: ctx.settings.maxBytesPerConnection }],
    tls: ['net.tls', { ip, port, reason: err.message }],
    protocol: ['net.protocol', { reason: err.message }],
    line_too_long: ['net.protocol', { reason: err.message }]
  }
  const [c, p] = code[err.kind] ?? ['net.error', { reason: err.message }]
  r.advise(c, p)
  adviseUnreachable(ctx, err, ip)
  r.step('relay-connect', 'fail', bi(L, `メールサーバーとやり取りできませんでした: ${err.message}`, `could not talk to the mail server: ${err.message}`))
  r.finish(bi(L, `中継テストができませんでした。サーバーとの SMTP のやり取りが成り立ちません: ${err.message}`, `the relay battery could not run: the SMTP dialogue with the server failed: ${err.message}`))
}
