// Validation and refusal messages in the caller's language. The validators
// (src/dns/names.ts, src/smtp/address.ts, the checks) throw BadInputError
// with an English sentence; the error handler asks here for the Japanese
// one. A message no pattern knows keeps its English text behind a Japanese
// lead, so a Japanese reader always learns at least what kind of error it is.
import type { Lang } from './index.js'

type Rule = [RegExp, (...m: string[]) => string]

const F = '([A-Za-z_]+)'
const RULES: Rule[] = [
  [new RegExp(`^${F} must be a string$`), (f) => `${f} は文字列で指定してください。`],
  [new RegExp(`^${F} contains a control character \\((.+)\\)$`), (f, c) => `${f} に制御文字 (${c}) が含まれています。改行などを取り除いてください。`],
  [new RegExp(`^${F} is empty$`), (f) => `${f} が空です。`],
  [new RegExp(`^${F} is too long$`), (f) => `${f} が長すぎます。`],
  [new RegExp(`^${F} must be a domain name, not an IP address$`), (f) => `${f} には IP アドレスではなくドメイン名 (例: example.jp) を入力してください。`],
  [new RegExp(`^${F} contains white space$`), (f) => `${f} に空白が含まれています。`],
  [new RegExp(`^${F} must end in a top-level domain name, not a number$`), (f) => `${f} の末尾はトップレベルドメイン (.jp、.com など) にしてください。`],
  [new RegExp(`^${F} "(.*)" is not a valid domain name$`), (f, s) => `${f}「${s}」はドメイン名として正しくありません。`],
  [new RegExp(`^${F} is longer than 253 octets$`), (f) => `${f} が 253 オクテットを超えています。`],
  [new RegExp(`^${F} must have at least two labels \\(like example\\.com\\)$`), (f) => `${f} は example.jp のように「.」で区切られた 2 つ以上の部分が必要です。`],
  [new RegExp(`^${F} has an empty label$`), (f) => `${f} に空の部分 (「..」など) があります。`],
  [new RegExp(`^${F} has a label longer than 63 octets$`), (f) => `${f} に 63 オクテットを超える部分があります。`],
  [new RegExp(`^${F} label "(.*)" may contain only letters, digits and inner hyphens$`), (f, l) => `${f} の「${l}」に使えるのは英数字と途中のハイフンだけです。`],
  [new RegExp(`^${F} must not contain < or >`), (f) => `${f} に < や > は含めないでください (user@example.jp の形で入力します)。`],
  [new RegExp(`^${F} must look like user@example\\.com$`), (f) => `${f} は user@example.jp の形で入力してください。`],
  [new RegExp(`^${F}: quoted local parts are not supported$`), (f) => `${f}: 引用符で囲んだユーザー名には対応していません。`],
  [new RegExp(`^${F}: the part before @ is longer than (\\d+) octets`), (f, n) => `${f}: @ より前が ${n} オクテットを超えています (RFC 5321 4.5.3.1.1)。`],
  [new RegExp(`^${F}: the part before @ may contain`), (f) => `${f}: @ より前に使えない文字があります (英数字と ! # $ % & ' * + / = ? ^ _ \` { | } ~ -、間に「.」1 つ)。`],
  [new RegExp(`^${F}: the domain is longer than (\\d+) octets`), (f, n) => `${f}: ドメインが ${n} オクテットを超えています。`],
  [new RegExp(`^${F}: the address is longer than (\\d+) octets`), (f, n) => `${f}: アドレスが ${n} オクテットを超えています。`],
  [new RegExp(`^${F} "(.*)" is not a domain, a mail address or a URL$`), (f, s) => `${f}「${s}」はドメイン、メールアドレス、URL のどれとしても読めません。`],
  [new RegExp(`^${F} "(.*)" has no host name$`), (f, s) => `${f}「${s}」にホスト名がありません。`],
  [/^ports must be a list of port numbers$/, () => 'ports にはポート番号のリストを指定してください。'],
  [/^ports is empty; leave it out to test the default mail ports$/, () => 'ports が空です。既定のメール用ポートをテストするなら、項目ごと省略してください。'],
  [/^ports lists too many entries$/, () => 'ports のポートが多すぎます。'],
  [/^ports must contain whole numbers$/, () => 'ports には整数を指定してください。'],
  [/^port (\d+) is not a mail port mxprobe tests \(allowed: (.*)\)$/, (p, a) => `ポート ${p} は mxprobe がテストするメール用ポートではありません (テストできるのは ${a})。`],
  [/^give both username and password, or neither$/, () => 'ユーザー名とパスワードは両方入力するか、両方とも空にしてください。'],
  [/^username must be 1 to (\d+) characters$/, (n) => `ユーザー名は 1〜${n} 文字で入力してください。`],
  [/^password must be 1 to (\d+) bytes$/, (n) => `パスワードは 1〜${n} バイトで入力してください。`],
  [/^(username|password) contains a control character/, (f) => `${f === 'username' ? 'ユーザー名' : 'パスワード'}に制御文字 (改行など) が含まれています。`],
  [/^username contains white space$/, () => 'ユーザー名に空白が含まれています。'],
  [/^(\S+) is this mxprobe's own relay-probe domain \((\S+)\)/, (d, o) => `${d} はこの mxprobe が中継テストに使う外部ドメイン (${o}) なので、中継テストはできません (RELAY_PROBE_DOMAIN)。`],
  // Schema validation (ajv) as the error handler words it: "body must have required property 'target'" …
  [/^body must have required property '(.+)'$/, (f) => `必須の項目 ${f} がありません。`],
  [/^body must NOT have additional properties$/, () => '知らない項目が含まれています。'],
  [/^body\/(\S+) must NOT have more than (\d+) characters$/, (f, n) => `${f} は ${n} 文字以内で入力してください。`],
  [/^body\/(\S+) must NOT have fewer than (\d+) characters$/, (f) => `${f} が空です。`],
  [/^body\/(\S+) must NOT have more than (\d+) items$/, (f, n) => `${f} に指定できるのは ${n} 個までです。`],
  [/^body\/(\S+) must be (string|integer|number|array|boolean)$/, (f, t) => `${f} の型が違います (${({ string: '文字列', integer: '整数', number: '数値', array: 'リスト', boolean: '真偽値' } as Record<string, string>)[t]} で指定してください)。`],
  [/^querystring\/lang must be equal to one of the allowed values$/, () => 'lang には ja か en を指定してください。']
]

/** Why a proof in `proofs` proves nothing (src/net/proof.ts), with what the reader can do. */
export type ProofProblem = 'list' | 'malformed' | 'forged' | 'expired' | 'future' | 'family' | 'special'

/**
 * The 400 of a proof, in the caller's language; it names the field
 * (`proofs[1]`) and never repeats the proof itself.
 */
export function proofText (lang: Lang, problem: ProofProblem, index: number, p: { max?: number, ttl?: number, ip?: string, reason?: string } = {}): string {
  const f = index >= 0 ? `proofs[${index}]` : 'proofs'
  const again = lang === 'ja' ? 'ページを再読み込みして、もう一度お試しください。' : 'reload the page (or ask GET /api/v1/ip again) and retry'
  const minutes = Math.max(1, Math.round((p.ttl ?? 300) / 60))
  switch (problem) {
    case 'list': return lang === 'ja' ? `${f} には証明 (proof) のリストを ${p.max} 個まで指定してください。` : `${f} must be a list of at most ${p.max} proofs`
    case 'malformed': return lang === 'ja' ? `${f} はこのサービスのアドレス証明の形式になっていません。${again}` : `${f} is not an address proof of this service (malformed); ${again}`
    case 'forged': return lang === 'ja' ? `${f} はこのサービスが発行した証明ではありません (改変されたか、別の PROOF_SECRET で署名されています)。${again}` : `${f} was not signed by this service (altered, or signed with another PROOF_SECRET); ${again}`
    case 'expired': return lang === 'ja' ? `${f} は有効期限 (${minutes} 分) が切れています。${again}` : `${f} has expired (a proof is valid for ${minutes} min); ${again}`
    case 'future': return lang === 'ja' ? `${f} の発行時刻が未来になっています (このサービスのサーバー同士の時計がずれています)。${again}` : `${f} was issued in the future (the clocks of this service's instances differ); ${again}`
    case 'family': return lang === 'ja' ? `${f} のアドレスファミリー (IPv4/IPv6) がアドレスと合っていません。` : `${f} has an address family that does not fit its address`
    case 'special': return lang === 'ja' ? `${f} が証明するアドレス ${p.ip} は特別な用途のアドレスなので、テストの対象になりません (${p.reason})。` : `${f} proves ${p.ip}, which is never a target: ${p.reason}`
  }
}

/** The message in the caller's language (English messages are returned as they are). */
export function errorText (lang: Lang, message: string): string {
  if (lang !== 'ja') return message
  for (const [re, ja] of RULES) {
    const m = message.match(re)
    if (m) return ja(...m.slice(1))
  }
  // Already Japanese (made with bi()): keep it.
  if (/[\u3040-\u30ff\u4e00-\u9fff]/.test(message)) return message
  return `入力に誤りがあります: ${message}`
}
