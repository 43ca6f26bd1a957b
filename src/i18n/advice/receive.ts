// Advice of the receive test (src/checks/receive.ts), registered when that check is loaded.
import { registerAdvice, type AdviceCatalogue } from '../index.js'

export const RECEIVE_ADVICE: AdviceCatalogue = {
  'smtp.reply_timeout': {
    en: (p) => `The server stopped answering in the middle of the dialogue (${p.reason}) although the connection was open. A mail server that goes quiet half-way usually waits on something of its own: a content filter or milter (amavis, SpamAssassin, rspamd, ClamAV) that hangs or is not running, DNS lookups on the server that time out (the reverse lookup of the sender, block-list queries), or deliberate slowness (tarpitting, Postfix's smtpd_error_sleep_time). Real senders wait longer (RFC 5321: 10 minutes after the message) and retry later; the server's mail log shows what it was doing at that moment.`,
    ja: (p) => `接続は開いたままですが、やりとりの途中でサーバーが応答しなくなりました (${p.reason})。途中で黙り込むメールサーバーは、たいてい自分の側の処理を待っています: 止まっている・起動していないコンテンツフィルターや milter (amavis、SpamAssassin、rspamd、ClamAV)、サーバー側の DNS 問い合わせのタイムアウト (送信元の逆引きやブラックリストの問い合わせ)、意図的な遅延 (tarpit、Postfix の smtpd_error_sleep_time) などです。実際の送信サーバーはもっと長く待ち (RFC 5321 ではメール本文の後に 10 分)、後で再送します。その時刻のサーバーのメールログを確認してください。`
  }
}

registerAdvice(RECEIVE_ADVICE)
