// The send test: the caller's server sends a mail to a one-time address of
// mxprobe's own inbound listener, and the report shows what a receiving
// server sees. Starting it only makes the address (no socket is opened);
// the rest happens when the mail arrives (src/inbound/), on whichever
// instance receives it, or when the wait runs out. So the check is
// `detached`: the runner answers with the running report at once.
import type { CheckDefinition } from './context.js'
import { validateDomain } from '../dns/names.js'
import { bi } from '../i18n/index.js'
import { TooBusyError } from './runner.js'
import { sendStepTitle, type SendInput, type SendService } from '../inbound/service.js'

export interface SendPlan { domain: string }

export function makeSendCheck (service: SendService): CheckDefinition<SendInput, SendPlan> {
  return {
    type: 'send',
    probes: false,
    detached: true,
    async prepare (ctx, input) {
      const lang = ctx.lang
      const domain = validateDomain(input.domain).ascii
      const r = ctx.report
      r.target({ domain })
      const made = await service.create(ctx.id, ctx.callerIp, domain, input.reply === true, lang)
      if ('busy' in made) {
        throw made.busy === 'caller'
          ? new TooBusyError(bi(lang, `この IP では既に ${service.deps.inbound.addressesPerCaller} 件の送信テストが待機中です。終わるまで待ってください`, `you already have ${service.deps.inbound.addressesPerCaller} send tests waiting; wait for one to finish`), 60)
          : new TooBusyError(bi(lang, '待機中の送信テストが上限に達しています。しばらくしてからやり直してください', 'mxprobe has as many send tests waiting as it allows; try again in a few minutes'), 60)
      }
      const rec = made.rec
      const address = service.addressOf(rec.token)
      const waitUntil = new Date(rec.expiresAt).toISOString()
      const minutes = Math.round(service.deps.inbound.waitSeconds / 6) / 10
      r.set('address', address)
      r.set('waitUntil', waitUntil)
      r.set('waitSeconds', service.deps.inbound.waitSeconds)
      r.set('reply', input.reply === true)
      r.set('inbound', null)
      r.info(bi(lang,
        `あなたのサーバーから ${address} へメールを送ってください (${minutes} 分以内、1 回だけ有効)。届いたら、受信側から見た結果をここに表示します`,
        `send a mail from your server to ${address} (within ${minutes} minutes; it works once). When it arrives, this report shows what a receiving server sees`))
      r.step('send-address', 'info', bi(lang, `${address} (期限 ${waitUntil})`, `${address} (until ${waitUntil})`), undefined, sendStepTitle('send-address', lang))
      return { domain }
    },
    async run () { /* detached: src/inbound/service.ts finishes the report */ }
  }
}
