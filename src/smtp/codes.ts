// What SMTP replies mean, in Japanese and English. Basic reply codes from
// RFC 5321 §4.2 (with RFC 4954, 7504 additions); enhanced status codes from
// RFC 3463 and the IANA "SMTP Enhanced Status Codes" registry
// (class.subject.detail). Users of the old receive-test sites had to
// machine-translate English errors; every non-2xx reply in a report gets a
// sentence from here instead.
import type { Reply } from './reply.js'
import { replyHeadline } from './reply.js'

export interface Explanation {
  /** "550", "550 5.1.1" */
  code: string
  en: string
  ja: string
  /** 4xx: try again later; 5xx: will not work until something changes */
  temporary: boolean
}

type Pair = [en: string, ja: string]

/** RFC 5321 §4.2.2-4.2.3 reply codes. */
export const REPLY_CODES: Record<number, Pair> = {
  211: ['System status or help reply.', 'システムの状態またはヘルプの応答です。'],
  214: ['Help message.', 'ヘルプメッセージです。'],
  220: ['The server is ready.', 'サーバーは準備ができています。'],
  221: ['The server is closing the connection.', 'サーバーが接続を終了します。'],
  235: ['Authentication succeeded.', '認証に成功しました。'],
  250: ['Requested action completed.', '要求された処理が完了しました。'],
  251: ['User not local; the server will forward the mail.', '宛先はこのサーバーのユーザーではなく、転送されます。'],
  252: ['Cannot verify the user, but the server will accept the message and attempt delivery.', 'ユーザーを確認できませんが、メールは受け取って配送を試みます。'],
  334: ['Authentication challenge.', '認証のやりとりの途中です。'],
  354: ['Start mail input; end with a line containing only a dot.', 'メール本文を送ってください (「.」だけの行で終わります)。'],
  421: ['The service is not available and the server is closing the connection (often: too many connections, or the server is shutting down).', 'サービスを利用できないため、サーバーが接続を閉じます (接続数の上限やサーバーの停止中などでよく起こります)。'],
  450: ['The mailbox is temporarily unavailable (busy, or greylisting: the server asks the sender to try again later).', 'メールボックスが一時的に利用できません (使用中、またはグレイリスティングにより「後で再送して」と求めています)。'],
  451: ['The server aborted the action because of a local error (a temporary problem on the server, such as a failing DNS lookup or a misconfigured filter).', 'サーバー内部の一時的なエラーで処理を中止しました (DNS の問い合わせ失敗やフィルターの設定ミスなど)。'],
  452: ['The server has insufficient storage (disk full) or too many recipients for now.', 'サーバーの記憶領域が不足している (ディスクがいっぱい) か、一度に受け付ける宛先数を超えました。'],
  454: ['Temporary authentication failure, or TLS is not available right now.', '一時的な認証エラー、または現在 TLS を利用できません。'],
  455: ['The server cannot accommodate the parameters right now.', 'サーバーは現在そのパラメーターを受け付けられません。'],
  500: ['Syntax error: command not recognised.', '構文エラー: コマンドを認識できません。'],
  501: ['Syntax error in parameters or arguments.', 'パラメーターまたは引数の構文エラーです。'],
  502: ['Command not implemented.', 'コマンドが実装されていません。'],
  503: ['Bad sequence of commands.', 'コマンドの順序が正しくありません。'],
  504: ['Command parameter not implemented.', 'コマンドのパラメーターが実装されていません。'],
  521: ['This host does not accept mail at all (RFC 7504).', 'このホストはメールを一切受け付けません (RFC 7504)。'],
  530: ['Authentication required.', '認証が必要です。'],
  534: ['The authentication mechanism is too weak.', '認証方式が弱すぎます。'],
  535: ['Authentication credentials invalid.', '認証情報が正しくありません。'],
  538: ['Encryption required for the requested authentication mechanism.', 'その認証方式には暗号化が必要です。'],
  550: ['The mailbox is unavailable: it does not exist, or the server refuses mail to it by policy.', 'メールボックスを利用できません: 存在しないか、サーバーの方針で受け付けを拒否しています。'],
  551: ['User not local; the server will not forward the mail.', '宛先はこのサーバーのユーザーではなく、転送もしません。'],
  552: ['The message exceeds the storage allocation (mailbox full or message too large).', '保存できる容量を超えています (メールボックスが満杯か、メールが大きすぎます)。'],
  553: ['The mailbox name is not allowed (bad syntax or not accepted by this server).', 'メールボックス名が許可されていません (書式の誤り、またはこのサーバーでは受け付けない名前)。'],
  554: ['Transaction failed (as a greeting: no SMTP service here; later: the message was refused, often by a spam or policy filter).', '処理に失敗しました (接続直後なら SMTP サービスを提供していない、その後なら迷惑メール対策などの方針で拒否されています)。'],
  555: ['MAIL FROM or RCPT TO parameters not recognised or not implemented.', 'MAIL FROM / RCPT TO のパラメーターを認識できないか、実装されていません。'],
  556: ['The domain does not accept mail (RFC 7504).', 'このドメインはメールを受け付けません (RFC 7504)。']
}

const CLASS: Record<string, Pair> = {
  2: ['Success', '成功'],
  4: ['Persistent transient failure (try again later)', '一時的な失敗 (後で再試行)'],
  5: ['Permanent failure', '恒久的な失敗']
}

const SUBJECT: Record<string, Pair> = {
  0: ['other or undefined status', 'その他・未定義の状態'],
  1: ['addressing status', 'アドレスに関する状態'],
  2: ['mailbox status', 'メールボックスに関する状態'],
  3: ['mail system status', 'メールシステムに関する状態'],
  4: ['network and routing status', 'ネットワーク・経路に関する状態'],
  5: ['mail delivery protocol status', '配送プロトコルに関する状態'],
  6: ['message content or media status', 'メールの内容・形式に関する状態'],
  7: ['security or policy status', 'セキュリティ・ポリシーに関する状態']
}

/** subject.detail → meaning (IANA registry), with a hint for home-server owners where useful. */
export const ENHANCED_CODES: Record<string, Pair> = {
  '0.0': ['Other undefined status.', 'その他の未定義の状態です。'],
  '1.0': ['Other address status.', 'アドレスに関するその他の状態です。'],
  1.1: ['Bad destination mailbox address: the mailbox does not exist on this server. Check the user name, and that the server knows this domain as one of its own (Postfix: mydestination or virtual_mailbox_domains; aliases).', '宛先メールボックスのアドレスが不正です: このサーバーにそのメールボックスは存在しません。ユーザー名と、サーバーがこのドメインを自分宛てとして扱う設定 (Postfix なら mydestination や virtual_mailbox_domains、エイリアス) を確認してください。'],
  1.2: ['Bad destination system address: the server does not accept mail for this domain.', '宛先システムのアドレスが不正です: サーバーはこのドメイン宛てのメールを受け付けません。'],
  1.3: ['Bad destination mailbox address syntax.', '宛先メールボックスのアドレスの書式が不正です。'],
  1.4: ['Destination mailbox address ambiguous.', '宛先メールボックスのアドレスが曖昧です。'],
  1.5: ['Destination address valid.', '宛先アドレスは有効です。'],
  1.6: ['Destination mailbox has moved; no forwarding address.', '宛先メールボックスは移動しました (転送先はありません)。'],
  1.7: ["Bad sender's mailbox address syntax.", '送信者メールボックスのアドレスの書式が不正です。'],
  1.8: ["Bad sender's system address (the sender's domain does not resolve or is refused).", '送信者システムのアドレスが不正です (送信者ドメインが DNS で引けないか、拒否されています)。'],
  1.9: ['Message relayed to a non-compliant mailer.', '規格に準拠しないメールサーバーへ中継されました。'],
  '1.10': ['Recipient address has a null MX (the domain accepts no mail).', '宛先ドメインは null MX (メールを受け取らない) を宣言しています。'],
  '2.0': ['Other or undefined mailbox status.', 'メールボックスに関するその他の状態です。'],
  2.1: ['Mailbox disabled, not accepting messages.', 'メールボックスは無効で、メールを受け付けていません。'],
  2.2: ['Mailbox full.', 'メールボックスが満杯です。'],
  2.3: ['Message length exceeds the administrative limit.', 'メールの大きさが管理上の上限を超えています。'],
  2.4: ['Mailing list expansion problem.', 'メーリングリストの展開で問題が発生しました。'],
  '3.0': ['Other or undefined mail system status.', 'メールシステムに関するその他の状態です。'],
  3.1: ['Mail system full (disk space).', 'メールシステムの容量がいっぱいです (ディスク容量)。'],
  3.2: ['System not accepting network messages.', 'システムはネットワークからのメールを受け付けていません。'],
  3.3: ['System not capable of the selected features.', 'システムは指定された機能に対応していません。'],
  3.4: ['Message too big for the system.', 'メールがシステムにとって大きすぎます。'],
  3.5: ['System incorrectly configured.', 'システムの設定に誤りがあります。'],
  3.6: ['Requested priority was changed.', '要求した優先度が変更されました。'],
  '4.0': ['Other or undefined network or routing status.', 'ネットワーク・経路に関するその他の状態です。'],
  4.1: ['No answer from host.', 'ホストから応答がありません。'],
  4.2: ['Bad connection.', '接続に問題があります。'],
  4.3: ['Directory server failure (often a DNS lookup that failed on the server).', 'ディレクトリサーバーの障害です (サーバー側の DNS 問い合わせの失敗が多い)。'],
  4.4: ['Unable to route.', '配送経路を決定できません。'],
  4.5: ['Mail system congestion.', 'メールシステムが混雑しています。'],
  4.6: ['Routing loop detected.', '配送のループを検出しました。'],
  4.7: ['Delivery time expired.', '配送の期限が切れました。'],
  '5.0': ['Other or undefined protocol status.', 'プロトコルに関するその他の状態です。'],
  5.1: ['Invalid command.', '無効なコマンドです。'],
  5.2: ['Syntax error.', '構文エラーです。'],
  5.3: ['Too many recipients.', '宛先が多すぎます。'],
  5.4: ['Invalid command arguments.', 'コマンドの引数が無効です。'],
  5.5: ['Wrong protocol version.', 'プロトコルのバージョンが違います。'],
  5.6: ['Authentication exchange line is too long.', '認証のやりとりの行が長すぎます。'],
  '6.0': ['Other or undefined media error.', '内容・形式に関するその他のエラーです。'],
  6.1: ['Media not supported.', 'この形式には対応していません。'],
  6.2: ['Conversion required and prohibited.', '変換が必要ですが禁止されています。'],
  6.3: ['Conversion required but not supported.', '変換が必要ですが対応していません。'],
  6.4: ['Conversion with loss performed.', '情報の一部が失われる変換を行いました。'],
  6.5: ['Conversion failed.', '変換に失敗しました。'],
  6.6: ['Message content not available.', 'メールの内容を取得できません。'],
  6.7: ['Non-ASCII addresses are not permitted for that sender or recipient (the server lacks SMTPUTF8).', 'この送信者・宛先には ASCII 以外の文字を含むアドレスを使えません (サーバーが SMTPUTF8 に未対応)。'],
  6.8: ['A UTF-8 reply is required but the client does not permit it.', 'UTF-8 の応答が必要ですが、クライアントが許可していません。'],
  6.9: ['A message with UTF-8 headers cannot be transferred to one or more recipients.', 'UTF-8 のヘッダーを含むメールを一部の宛先へ転送できません。'],
  '6.10': ['A UTF-8 reply is required but the client does not permit it.', 'UTF-8 の応答が必要ですが、クライアントが許可していません。'],
  '7.0': ['Other or undefined security status.', 'セキュリティに関するその他の状態です。'],
  7.1: ['Delivery not authorized, message refused (a policy: relaying denied, sender or client IP blocked, or recipient restricted).', '配送が許可されず、メールは拒否されました (中継の拒否、送信者や接続元 IP のブロック、宛先の制限などの方針)。'],
  7.2: ['Mailing list expansion prohibited.', 'メーリングリストの展開は禁止されています。'],
  7.3: ['Security conversion required but not possible.', 'セキュリティ上の変換が必要ですが、できません。'],
  7.4: ['Security features not supported.', 'セキュリティ機能に対応していません。'],
  7.5: ['Cryptographic failure.', '暗号処理に失敗しました。'],
  7.6: ['Cryptographic algorithm not supported.', 'その暗号アルゴリズムには対応していません。'],
  7.7: ['Message integrity failure.', 'メールの完全性の検証に失敗しました。'],
  7.8: ['Authentication credentials invalid.', '認証情報が正しくありません。'],
  7.9: ['Authentication mechanism is too weak.', '認証方式が弱すぎます。'],
  '7.10': ['Encryption needed.', '暗号化が必要です。'],
  7.11: ['Encryption required for the requested authentication mechanism.', 'その認証方式には暗号化が必要です。'],
  7.12: ['A password transition is needed.', 'パスワードの移行が必要です。'],
  7.13: ['User account disabled.', 'ユーザーアカウントが無効です。'],
  7.14: ['Trust relationship required.', '信頼関係が必要です。'],
  7.15: ['Priority level is too low.', '優先度が低すぎます。'],
  7.16: ['Message is too big for the specified priority.', '指定した優先度にはメールが大きすぎます。'],
  7.17: ['Mailbox owner has changed.', 'メールボックスの所有者が変わりました。'],
  7.18: ['Domain owner has changed.', 'ドメインの所有者が変わりました。'],
  7.19: ['RRVS test cannot be completed.', 'RRVS の検査を完了できません。'],
  '7.20': ['No passing DKIM signature found.', '有効な DKIM 署名が見つかりません。'],
  7.21: ['No acceptable DKIM signature found.', '受け入れ可能な DKIM 署名が見つかりません。'],
  7.22: ['No valid author-matched DKIM signature found.', '差出人と一致する有効な DKIM 署名が見つかりません。'],
  7.23: ['SPF validation failed.', 'SPF の検証に失敗しました。'],
  7.24: ['SPF validation error.', 'SPF の検証でエラーが発生しました。'],
  7.25: ['Reverse DNS validation failed (the sending IP has no matching PTR).', '逆引き DNS の検証に失敗しました (送信元 IP に一致する PTR がありません)。'],
  7.26: ['Multiple authentication checks failed.', '複数の認証検査に失敗しました。'],
  7.27: ['Sender address has a null MX.', '送信者のドメインは null MX を宣言しています。'],
  7.28: ['Mail flood detected.', '大量のメールを検出しました。'],
  7.29: ['ARC validation failure.', 'ARC の検証に失敗しました。'],
  '7.30': ['REQUIRETLS support required.', 'REQUIRETLS への対応が必要です。']
}

/** The meaning of a basic reply code, by exact code or by its first digit. */
export function explainCode (code: number): Pair {
  const exact = REPLY_CODES[code]
  if (exact) return exact
  switch (Math.floor(code / 100)) {
    case 2: return ['Positive completion.', '正常に完了しました。']
    case 3: return ['Positive intermediate reply: the server waits for more.', '途中までの正常応答です (続きを待っています)。']
    case 4: return ['Transient negative reply: the action was not taken, but may succeed later.', '一時的な否定応答です。処理されませんでしたが、後で成功する可能性があります。']
    default: return ['Permanent negative reply: the action was not taken and will not succeed as is.', '恒久的な否定応答です。このままでは成功しません。']
  }
}

/** The meaning of an enhanced status code "c.s.d", or null when it is not one. */
export function explainEnhanced (enhanced: string): Pair | null {
  const m = /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(enhanced)
  if (!m) return null
  const cls = CLASS[m[1]]
  const detail = ENHANCED_CODES[`${m[2]}.${m[3]}`]
  if (detail) return [`${cls[0]}: ${detail[0]}`, `${cls[1]}: ${detail[1]}`]
  const subject = SUBJECT[m[2]]
  if (subject) return [`${cls[0]}, ${subject[0]} (detail ${m[3]} is not registered).`, `${cls[1]}、${subject[1]} (詳細コード ${m[3]} は未登録)。`]
  return [`${cls[0]}.`, `${cls[1]}。`]
}

/** Greylisting looks like this: 4xx to RCPT (or after DATA) mentioning it, or 450/451 4.7.x / 4.2.0. */
export function looksGreylisted (r: Pick<Reply, 'code' | 'enhanced' | 'lines'>): boolean {
  if (r.code < 400 || r.code >= 500) return false
  return /grey|gray|try again later|deferred|postgrey/i.test(r.lines.join(' ')) || r.enhanced === '4.7.1' || r.enhanced === '4.2.0'
}

/**
 * A reply explained in both languages: basic code, enhanced code when the
 * server gave one, and what "temporary" or "permanent" means for the sender.
 */
/** Where a reply stood in the dialogue, when that changes what it means. */
export interface ReplyContext {
  /**
   * A refusal of DATA after every RCPT of the transaction was refused: a
   * pipelining client (RFC 2920) sends DATA with the RCPTs, and the server
   * must refuse it ("503 All RCPT commands were rejected", "503 valid RCPT
   * command must precede DATA", Postfix's "554 5.5.1 Error: no valid
   * recipients"). That is the refused recipient's consequence, not a
   * client that got the command order wrong.
   */
  afterRefusedRcpt?: boolean
}

/** The explanation of a DATA refused only because no recipient was accepted. */
function consequenceOfRefusedRcpt (r: Pick<Reply, 'code' | 'enhanced'>): Explanation {
  return {
    code: r.enhanced ? `${r.code} ${r.enhanced}` : String(r.code),
    en: `${r.code}: This refusal of DATA only follows from the refused recipient: with PIPELINING (RFC 2920) mxprobe sends MAIL, RCPT and DATA together, as mail servers do, and a server that refused every RCPT must then refuse DATA too. Nothing is wrong with the order of commands; the reason is the server's reply to RCPT.`,
    ja: `${r.code}: この DATA の拒否は、宛先 (RCPT) が拒否されたことの結果にすぎません。mxprobe は一般的なメールサーバーと同じく PIPELINING (RFC 2920) で MAIL・RCPT・DATA をまとめて送るため、すべての RCPT を拒否したサーバーは続く DATA も拒否します。コマンドの順序に問題はありません。原因は RCPT への応答のほうです。`,
    temporary: false
  }
}

export function explainReply (r: Pick<Reply, 'code' | 'enhanced' | 'lines'> & { raw?: string[] }, context: ReplyContext = {}): Explanation {
  if (context.afterRefusedRcpt && r.code >= 500) return consequenceOfRefusedRcpt(r)
  const basic = explainCode(r.code)
  const enh = r.enhanced ? explainEnhanced(r.enhanced) : null
  const temporary = r.code >= 400 && r.code < 500
  const en = [`${r.code}: ${basic[0]}`]
  const ja = [`${r.code}: ${basic[1]}`]
  if (enh) { en.push(`${r.enhanced}: ${enh[0]}`); ja.push(`${r.enhanced}: ${enh[1]}`) }
  if (temporary) {
    if (looksGreylisted(r)) {
      en.push('This looks like greylisting: the server turns away the first attempt from an unknown sender and accepts a retry after a few minutes. Real senders retry on their own, so mail will arrive late but will arrive; run the test again in 5 to 15 minutes to see it accepted.')
      ja.push('これはグレイリスティングと思われます。知らない送信元からの最初の配送を一旦断り、数分後の再送を受け付ける仕組みです。通常の送信サーバーは自動で再送するので、遅れてもメールは届きます。5〜15 分後にもう一度テストすると受け付けられるはずです。')
    } else {
      en.push('A 4xx reply is temporary: a sending server keeps the message and retries later.')
      ja.push('4xx は一時的なエラーです。送信側のサーバーはメールを保持し、後で再送します。')
    }
  } else if (r.code >= 500) {
    en.push('A 5xx reply is permanent: the sender gives up and the mail bounces.')
    ja.push('5xx は恒久的なエラーです。送信側は再送せず、メールはエラーとして差出人に戻ります。')
  }
  return { code: r.enhanced ? `${r.code} ${r.enhanced}` : String(r.code), en: en.join(' '), ja: ja.join(' '), temporary }
}

/** "550 5.1.1 <x@y>: User unknown — 550: … 5.1.1: …" for step details, in the report's language. */
export function explainedDetail (r: Reply, lang: 'ja' | 'en', context: ReplyContext = {}): string {
  const e = explainReply(r, context)
  return `${replyHeadline(r)} — ${lang === 'ja' ? e.ja : e.en}`
}
