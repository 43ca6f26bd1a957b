// The role-mailbox check: does the caller's MX accept mail for the
// addresses every mail domain must (postmaster, RFC 5321 §4.5.1, also
// without a domain; abuse, RFC 2142) and the ones RFC 2142 recommends?
// One session: MAIL FROM, one RCPT per address (pipelined when offered),
// RSET, QUIT. Never DATA: nothing is delivered.
//
// Verdict: fail if a required address is refused with 5xx; warn if a
// recommended one is, or if any answer was temporary (4xx) or the server
// wanted authentication (530); pass otherwise.
import type { CheckDefinition } from './context.js'
import { ProbeError } from '../errors.js'
import { mailTargetFor } from './mailhosts.js'
import { SmtpClient, probePath, POSTMASTER, type ProbePath } from '../smtp/client.js'
import { replyHeadline } from '../smtp/reply.js'
import type { Status } from '../core/report.js'
import { understandDomain, noteUnderstood } from './target-input.js'
import { bi } from '../i18n/index.js'

export interface RolesInput { domain: string }
export interface RolesPlan { domain: string, host: string, ip: string }

export interface RoleMailbox {
  address: string
  required: boolean
  accepted: boolean
  reply: string | null
  code: number | null
  rfc: string
}

export function roleAddresses (domain: string): Array<{ path: ProbePath, required: boolean, rfc: string, local: string }> {
  return [
    { path: probePath(`postmaster@${domain}`), required: true, rfc: 'RFC 5321 §4.5.1', local: 'postmaster' },
    { path: POSTMASTER, required: true, rfc: 'RFC 5321 §4.5.1 (without a domain)', local: 'postmaster' },
    { path: probePath(`abuse@${domain}`), required: true, rfc: 'RFC 2142 §2', local: 'abuse' },
    ...['webmaster', 'hostmaster', 'noc', 'security', 'ftp'].map((l) => ({ path: probePath(`${l}@${domain}`), required: false, rfc: 'RFC 2142', local: l }))
  ]
}

export const rolesCheck: CheckDefinition<RolesInput, RolesPlan> = {
  type: 'roles',
  probes: true,
  async prepare (ctx, input) {
    const u = understandDomain(input.domain)
    const d = u.domain
    noteUnderstood(ctx.report, u)
    const { match } = await mailTargetFor(ctx, d.ascii)
    ctx.report.target({ domain: d.ascii, host: match.host.host, ip: match.address.address })
    return { domain: d.ascii, host: match.host.host, ip: match.address.address }
  },
  async run (ctx, plan) {
    const r = ctx.report
    const lang = r.lang
    const roles = roleAddresses(plan.domain)
    const c = await SmtpClient.open(ctx, plan.ip, { servername: plan.host })
    let mailboxes: RoleMailbox[]
    try {
      if (c.banner!.code !== 220) throw new ProbeError('protocol', bi(lang, `サーバーの挨拶が 220 ではなく「${replyHeadline(c.banner!)}」でした`, `the server greeted with "${replyHeadline(c.banner!)}" instead of 220`), 25)
      const e = await c.ehlo()
      if (e.code !== 250) throw new ProbeError('protocol', bi(lang, `サーバーは EHLO も HELO も拒否しました: ${replyHeadline(e)}`, `the server refused EHLO and HELO: ${replyHeadline(e)}`), 25)
      const batch = await c.envelopeBatch(probePath(ctx.settings.mailFrom), roles.map((x) => x.path))
      if (batch.mail.code >= 400) {
        // Refusing mxprobe's sender is the server's doing: 5xx fail, 4xx (and 530, authentication on port 25) warn.
        const auth = batch.mail.code === 530
        const st: Status = auth || batch.mail.code < 500 ? 'warn' : 'fail'
        r.step('MAIL FROM', st, replyHeadline(batch.mail))
        if (auth) r.advise('roles.auth_required', { reply: replyHeadline(batch.mail) })
        else r.advise('smtp.mail_refused', { from: ctx.settings.mailFrom, reply: replyHeadline(batch.mail) })
        r.set('mailboxes', roles.map((x) => ({ address: x.path.text, required: x.required, accepted: false, reply: bi(lang, `テストせず: ${replyHeadline(batch.mail)}`, `not tested: ${replyHeadline(batch.mail)}`), code: null, rfc: x.rfc })))
        await c.quit()
        r.finish(bi(lang, `サーバーがテスト用の送信者を拒否したため、アドレスをテストできませんでした (${replyHeadline(batch.mail)})`, `the server refused the test sender, so no mailbox could be tested (${replyHeadline(batch.mail)})`))
        return
      }
      mailboxes = roles.map((x, i) => {
        const rep = batch.rcpts[i]
        return { address: x.path.text, required: x.required, accepted: !!rep && rep.code >= 200 && rep.code < 300, reply: rep ? replyHeadline(rep) : null, code: rep?.code ?? null, rfc: x.rfc }
      })
      await c.quit()
    } catch (err) {
      c.close()
      throw err
    }
    r.set('mailboxes', mailboxes)

    const missingRecommended: string[] = []
    for (const [i, m] of mailboxes.entries()) {
      const temporary = !m.accepted && m.code !== null && m.code >= 400 && m.code < 500
      const st: Status = m.accepted ? 'pass' : temporary ? 'warn' : m.required ? 'fail' : 'warn'
      r.step(`<${m.address}>`, st, bi(lang, `${m.required ? '必須' : '推奨'} (${m.rfc.replace('without a domain', 'ドメインなし')}): ${m.reply ?? '応答なし'}`, `${m.required ? 'required' : 'recommended'} (${m.rfc}): ${m.reply ?? 'no answer'}`))
      if (m.accepted) continue
      if (temporary) r.advise('roles.temporary', { address: m.address, reply: m.reply })
      else if (m.required) r.advise('roles.required_missing', { address: m.address, reply: m.reply, rfc: m.rfc, local: roles[i].local })
      else missingRecommended.push(m.address)
    }
    if (missingRecommended.length) r.advise('roles.recommended_missing', { addresses: missingRecommended.join(', '), many: missingRecommended.length > 1 })
    const refused = mailboxes.filter((m) => !m.accepted)
    const summary = refused.length === 0
      ? bi(lang, `${mailboxes.length} 個の役割アドレスがすべて受け付けられました`, `all ${mailboxes.length} role addresses are accepted`)
      : bi(lang, `${mailboxes.length} 個中 ${refused.length} 個の役割アドレスが受け付けられません: ${refused.map((m) => m.address + (m.required ? ' (必須)' : '')).join(', ')}`,
        `${refused.length} of ${mailboxes.length} role addresses not accepted: ${refused.map((m) => m.address + (m.required ? ' (required)' : '')).join(', ')}`)
    r.finish(summary)
  }
}
