// Deliver one message over a guarded connection, the way a careful mail
// server would: greeting, EHLO (HELO when EHLO is refused), STARTTLS when
// offered, MAIL + RCPT + DATA (one pipelined group when PIPELINING is
// offered), the message, and QUIT without waiting for its reply. Used by
// the receive test and by the send test's reply leg; both judge the
// outcome themselves. Every byte goes through SmtpClient (guarded socket,
// reply caps, absolute timeouts), so the hostile-server defences hold here.
//
// A TLS handshake that fails after the server's "220" to STARTTLS (a
// broken certificate setup, OpenSMTPD on OpenSSL 3, a stalled handshake)
// is what real senders meet now and then: they note it, open a new
// connection and deliver in clear. So does this function; the outcome has
// both sessions and the transcript shows both.
//
// The message may be a promise: composing it (MailComposer) runs while the
// connection opens and the greeting, EHLO and TLS are exchanged.
import { SmtpClient, type Path, type SessionContext, type StageTiming, type TlsInfo, type MessageResult, type MailParam } from './client.js'
import { replyHeadline, type Reply } from './reply.js'
import { ProbeError } from '../errors.js'
import { bi, type Lang } from '../i18n/index.js'

export interface DeliverRequest {
  /** the target's IP literal (the connector enforces the caller-IP rule) */
  ip: string
  port?: number
  /** the MX host name: SNI and certificate name */
  servername: string
  from: Path | null
  to: Path
  /** the recipient needs SMTPUTF8 (a non-ASCII local part) */
  utf8: boolean
  message: Buffer | Promise<Buffer>
  /** language of the notes mxprobe adds to the transcript */
  lang: Lang
  /** byte cap on the message as sent */
  maxBytes?: number
}

export type SessionKind = 'first' | 'clear retry'

export interface DeliverySession {
  kind: SessionKind
  connectMs: number
  banner: Reply | null
  /** the reply to EHLO, or to HELO when EHLO was refused (before TLS) */
  ehlo: Reply | null
  usedHelo: boolean
  /** extensions the server offered before TLS */
  offered: Map<string, string[]>
  /** the reply to STARTTLS, when it was sent */
  starttls: Reply | null
  tls: TlsInfo | null
  /** the TLS handshake after "220" failed (this session was given up) */
  tlsError: ProbeError | null
  /** the reply to EHLO inside TLS */
  ehloTls: Reply | null
  /** the extensions in effect for the mail transaction */
  extensions: Map<string, string[]>
  timings: StageTiming[]
  replies: Array<{ stage: string, reply: Reply }>
}

export interface DeliveryOutcome {
  sessions: DeliverySession[]
  /** the mail transaction (null when it was not reached) */
  message: MessageResult | null
  /** the first reply that refused or deferred, and its stage (banner, ehlo, ehlo (tls), mail, rcpt, data, end of data) */
  refused: { stage: string, reply: Reply } | null
  /** the recipient needs SMTPUTF8 and the server does not offer it: no MAIL was sent */
  utf8Missing: boolean
  accepted: boolean
  /** the final reply to the message */
  response: string | null
  /** queue id from the final reply (Postfix's and smtp-server's "queued as …", Exim's "id=…", OpenSMTPD's "… Message accepted") */
  queueId: string | null
  /** size of the message as composed */
  messageBytes: number
  /** what ended the dialogue before its end (no connection, timeout, protocol error …); null otherwise */
  error: ProbeError | null
}

/** The queue id a server names in its final reply, when it names one. */
export function queueIdOf (r: Reply | null): string | null {
  if (!r) return null
  const text = r.lines.join(' ')
  return /queued as ([A-Za-z0-9._-]+)/i.exec(text)?.[1] ?? // Postfix, smtp-server
    /\bid=([A-Za-z0-9-]+)/.exec(text)?.[1] ?? // Exim: "250 OK id=1xYSnK-0000M2-0U"
    /\b([0-9a-f]{8,16}) Message accepted for delivery/i.exec(text)?.[1] ?? // OpenSMTPD
    null
}

function has8bit (b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] > 0x7f) return true
  return false
}

function newSession (kind: SessionKind, c: SmtpClient): DeliverySession {
  return {
    kind,
    connectMs: c.connectMs,
    banner: c.banner,
    ehlo: null,
    usedHelo: false,
    offered: new Map(),
    starttls: null,
    tls: null,
    tlsError: null,
    ehloTls: null,
    extensions: new Map(),
    timings: c.timings,
    replies: c.replies
  }
}

/**
 * One delivery. Never throws a ProbeError: what went wrong on the wire is
 * in `outcome.error` with everything learnt until then; the caller judges.
 */
export async function deliverMessage (ctx: SessionContext, req: DeliverRequest): Promise<DeliveryOutcome> {
  const message = Promise.resolve(req.message)
  message.catch(() => {})
  const out: DeliveryOutcome = { sessions: [], message: null, refused: null, utf8Missing: false, accepted: false, response: null, queueId: null, messageBytes: 0, error: null }
  const lang = req.lang
  let c: SmtpClient | null = null

  /** open a session, read the greeting, say EHLO; false when the server refused either */
  const begin = async (kind: SessionKind): Promise<DeliverySession | null> => {
    c = await SmtpClient.open(ctx, req.ip, { servername: req.servername, port: req.port })
    const s = newSession(kind, c)
    out.sessions.push(s)
    if (c.banner!.code !== 220) {
      out.refused = { stage: 'banner', reply: c.banner! }
      return null
    }
    s.ehlo = await c.ehlo()
    s.usedHelo = c.usedHelo
    s.offered = new Map(c.extensions)
    s.extensions = c.extensions
    if (s.ehlo.code !== 250) {
      out.refused = { stage: 'ehlo', reply: s.ehlo }
      return null
    }
    return s
  }

  try {
    let s = await begin('first')
    if (!s) { c!.quitNoWait(); return out }
    if (s.offered.has('STARTTLS')) {
      try {
        const st = await c!.startTls()
        s.starttls = st.reply
        s.tls = st.tls
        if (st.tls) {
          s.ehloTls = c!.ehloReply
          s.extensions = c!.extensions
          if (!s.ehloTls || s.ehloTls.code !== 250) {
            out.refused = { stage: 'ehlo (tls)', reply: s.ehloTls ?? st.reply }
            c!.quitNoWait()
            return out
          }
        }
      } catch (err) {
        if (!(err instanceof ProbeError) || err.kind !== 'tls') throw err
        // The handshake took this connection with it. Senders retry in clear; so does mxprobe.
        s.starttls = c!.replies.find((x) => x.stage === 'starttls')?.reply ?? null
        s.tlsError = err
        c!.close()
        ctx.report.line('I', bi(lang,
          `TLS ハンドシェイクに失敗しました (${err.message})。一般的なメールサーバーと同じく、接続し直して暗号化なしで配送します。`,
          `the TLS handshake failed (${err.message}); like mail servers do, mxprobe connects again and delivers without encryption`))
        s = await begin('clear retry')
        if (!s) { c!.quitNoWait(); return out }
      }
    }
    if (req.utf8 && !c!.supports('SMTPUTF8')) {
      out.utf8Missing = true
      c!.quitNoWait()
      return out
    }
    const body = await message
    out.messageBytes = body.length
    const params: MailParam[] = []
    if (req.utf8) params.push('SMTPUTF8')
    if (c!.supports('8BITMIME') && has8bit(body)) params.push('BODY=8BITMIME')
    const res = await c!.sendMessage(req.from, req.to, body, {
      params,
      maxBytes: req.maxBytes,
      quit: true,
      bodyNote: (lines, bytes) => bi(lang,
        `(本文 ${lines} 行・${bytes} バイトは mxprobe のテスト用の文面です。ここでは省略します)`,
        `(the body, ${lines} lines and ${bytes} bytes, is mxprobe's test text; not shown here)`)
    })
    out.message = res
    const stages: Array<[string, Reply | null]> = [['mail', res.mail], ['rcpt', res.rcpt], ['data', res.data], ['end of data', res.end]]
    const bad = stages.find(([, r]) => r && r.code >= 400)
    if (bad) out.refused = { stage: bad[0], reply: bad[1]! }
    out.accepted = res.accepted
    out.response = res.end ? replyHeadline(res.end) : null
    out.queueId = res.accepted ? queueIdOf(res.end) : null
    c!.quitNoWait()
  } catch (err) {
    out.error = err instanceof ProbeError ? err : new ProbeError('other', (err as Error).message)
    ;(c as SmtpClient | null)?.close()
  }
  return out
}
