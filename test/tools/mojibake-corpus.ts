// A generator of garbled Japanese mail: real-looking passages (business
// mail, a home-server hobbyist's questions, old mobile half-width kana,
// 〜 and − from Mac and Unix senders, Windows-only ①/㈱, a JIS X 0212 kanji)
// × every way mail really gets garbled. Each garbling is done by actually
// encoding and mis-decoding, with iconv-lite (servers) and WHATWG
// TextDecoder (browsers, most mail clients). A pair the sender could not
// have produced (a character the charset lacks) is skipped.
// Used by test/tools/mojibake-paths.test.ts and bench/tools.ts.
import iconv from 'iconv-lite'

export const PASSAGES: string[] = [
  'お世話になっております。株式会社サンプルの山田です。先日ご依頼いただいた見積書を添付いたしますので、ご確認のほどよろしくお願いいたします。',
  '自宅サーバーのPostfixから送ったメールが相手に届きません。プロバイダのOP25Bで25番ポートが塞がれているようなので、587番のサブミッションポートを使う設定に変えました。',
  '会議の日程について、来週の火曜日午後二時からでいかがでしょうか。場所は本社三階の第二会議室を予定しています。',
  'パスワード変更のお知らせ：セキュリティ向上のため、次回ログイン時に新しいパスワードの設定をお願いします。',
  'ﾒｰﾙｻｰﾊﾞｰの設定を変更しました。ｿﾌﾄは再起動済みです。',
  'ｹｰﾀｲから送信しています。ｺﾞﾒﾝﾈ、今日は遅くなります。',
  '営業時間は平日10:00〜18:00です。土日祝日はお休みをいただいております。',
  '明日の最低気温は−5℃の予報です。路面の凍結にご注意ください。',
  '提出書類：①申込書 ②身分証明書のコピー ③印鑑証明書（発行から三か月以内）',
  '㈱サンプル商事 営業部 佐藤様　いつも大変お世話になっております。',
  '森鷗外の小説を読んでいます。文体が美しいですね。',
  '逆引きが設定されていないと、迷惑メールとして扱われることがあります。固定IPを契約してPTRレコードを登録しましょう。',
  'DKIMの署名を追加したところ、Gmailでも受信できるようになりました。DMARCのポリシーはまだnoneにしています。',
  'Dovecotでメールボックスを Maildir 形式にしてから、IMAPの動作がとても軽くなりました。',
  '先週の障害について報告いたします。原因はディスク容量の不足で、ログが肥大化していたことによるものでした。',
  '件名：【重要】システムメンテナンスのお知らせ（1月20日 深夜2:00〜5:00）',
  'ご注文ありがとうございます。商品は3〜5営業日以内に発送いたします。',
  '差出人のアドレスが偽装されている可能性があります。心当たりのない添付ファイルは開かないでください。',
  'ポート開放の確認をしたいのですが、ルーターの設定画面でどこを見ればよいでしょうか。',
  '第三者中継のテストで「Relay access denied」と返ってくれば問題ありません。',
  '価格は一個あたり1,200円（税込）です。まとめてご購入の場合は割引もございます。',
  'ﾃｽﾄﾒｰﾙです。ｼﾞｭｼﾝできたらﾍﾝｼﾝしてください。',
  '東京都千代田区丸の内一丁目　電話：03−1234−5678',
  '申し訳ございませんが、添付ファイルが開けませんでした。お手数ですが再送していただけますか。',
  // written after the language model's corpus (scripts/ja-corpus/), and never tuned on: how the guessing does on unseen text
  '昨夜から社内のプリンターが印刷できない状態です。総務に問い合わせたところ、業者が午後に来るそうです。',
  '年末の挨拶回りの件ですが、二十六日の午前中に取引先三社を訪問する予定で調整しています。',
  'マンションの管理組合から、来月二日に断水があるとの連絡がありました。',
  '申込期限は十月三十一日（金）必着です。郵送の場合は消印有効ではありませんのでご注意ください。',
  'ﾊﾞｲﾄｵﾜｯﾀﾗﾃﾞﾝﾜｽﾙﾈ｡ﾁｮｯﾄﾂｶﾚﾀ｡',
  'お見積りの金額に誤りがございました。正しくは８５，０００円（税込）です。大変失礼いたしました。',
  'ウイルス対策ソフトの定義ファイルが古いままになっています。至急、最新の状態に更新してください。',
  '旅行の写真ができあがりました。京都の紅葉がとてもきれいに撮れています。',
  'ポップアップ広告が出るようになってしまいました。何か変なソフトを入れてしまったのかもしれません。',
  '当選のお知らせ：このたびはキャンペーンにご応募いただき、誠にありがとうございました。',
  '新年度の組織変更に伴い、四月一日付で営業二課へ異動することになりました。',
  '受講料：一般５，０００円／会員３，０００円　定員：先着３０名',
  'スパムの送信元を調べたら、海外の乗っ取られたサーバーでした。',
  '保育園のお迎えがあるので、本日は十七時で失礼します。明日は通常どおり出社します。',
  'ご指定の口座番号に誤りがあり、お振り込みが完了しておりません。お手数ですがご確認をお願いします。',
  'バックアップ用の外付けハードディスクが認識されなくなりました。データを取り出す方法はありますか。',
  '電車が人身事故で止まっているため、到着が三十分ほど遅れそうです。先に始めていてください。',
  '配送料は全国一律５５０円、５，０００円以上のお買い上げで無料となります。',
  '第２回 情報セキュリティ勉強会 〜フィッシング詐欺から身を守るには〜',
  'ｼｮｳﾋﾝﾊﾞﾝｺﾞｳ：ＡＢ−１２３４　ｽｳﾘｮｳ：２',
  'インフルエンザが流行していますので、手洗いとうがいを心がけましょう。',
  'ブラックリストに登録されてしまい、取引先にメールが届かなくなりました。解除の手続きを教えてください。',
  '⑤の項目について、担当者から追って説明させていただきます。',
  '先方の担当者が不在のため、折り返しお電話をいただけるよう伝言をお願いしました。'
]

export interface GarblePath {
  id: string
  /** what happened, as a person would say it */
  name: string
  /** every byte survives: the text can come back exactly */
  lossless: boolean
  /**
   * the decoder replaced most bytes without a trace of their values (a UTF-8 or EUC-JP decoder fed
   * Shift_JIS): no repair can be exact, so these are reported but left out of the overall figure
   */
  beyond?: true
  make: (s: string) => string | null
}

const whatwg = (b: Buffer, label: string): string => new TextDecoder(label).decode(b)

/** Characters whose Windows and JIS mappings differ count as equal (〜/～, −/－). */
export function normalise (s: string): string {
  return s.replace(/\u301c/g, '\uff5e').replace(/\u2212/g, '\uff0d')
}

/** Encodes with a Japanese charset, Mac/Unix 〜 and − as the same bytes as Windows' ～ and －; null when a character has no encoding. */
export function encodeJa (s: string, cs: 'cp932' | 'euc-jp'): Buffer | null {
  const n = normalise(s)
  const b = iconv.encode(n, cs)
  return iconv.decode(b, cs) === n ? b : null
}

/** ISO-2022-JP (RFC 1468) with the half-width katakana set ESC ( I and JIS X 0212 ESC $ ( D (ISO-2022-JP-1/2). */
export function iso2022 (s: string): Buffer | null {
  const out: number[] = []
  let mode = 'ascii'
  const to = (m: string, esc: number[]): void => { if (mode !== m) { out.push(0x1b, ...esc); mode = m } }
  for (const ch of normalise(s)) {
    const cp = ch.codePointAt(0)!
    if (cp < 0x80) { to('ascii', [0x28, 0x42]); out.push(cp); continue }
    if (cp >= 0xff61 && cp <= 0xff9f) { to('kana', [0x28, 0x49]); out.push(cp - 0xff61 + 0x21); continue }
    const e = iconv.encode(ch, 'euc-jp')
    if (iconv.decode(e, 'euc-jp') !== ch) return null
    if (e.length === 2 && e[0] >= 0xa1 && e[0] <= 0xf4) { to('0208', [0x24, 0x42]); out.push(e[0] & 0x7f, e[1] & 0x7f); continue }
    if (e.length === 3 && e[0] === 0x8f) { to('0212', [0x24, 0x28, 0x44]); out.push(e[1] & 0x7f, e[2] & 0x7f); continue }
    return null
  }
  to('ascii', [0x28, 0x42])
  return Buffer.from(out)
}

const qp = (b: Buffer): string => [...b].map((x) => (x >= 0x21 && x <= 0x7e && x !== 0x3d ? String.fromCharCode(x) : '=' + x.toString(16).toUpperCase().padStart(2, '0'))).join('')
const sj = (s: string): Buffer | null => encodeJa(s, 'cp932')
const euc = (s: string): Buffer | null => encodeJa(s, 'euc-jp')
const u8 = (s: string): Buffer => Buffer.from(s, 'utf8')

export const PATHS: GarblePath[] = [
  { id: 'sjis-latin1', name: 'Shift_JIS read as Latin-1', lossless: true, make: (s) => sj(s)?.toString('latin1') ?? null },
  { id: 'sjis-1252-whatwg', name: 'Shift_JIS read as windows-1252 (browser)', lossless: true, make: (s) => { const b = sj(s); return b && whatwg(b, 'windows-1252') } },
  { id: 'euc-latin1', name: 'EUC-JP read as Latin-1', lossless: true, make: (s) => euc(s)?.toString('latin1') ?? null },
  { id: 'euc-1252-whatwg', name: 'EUC-JP read as windows-1252 (browser)', lossless: true, make: (s) => { const b = euc(s); return b && whatwg(b, 'windows-1252') } },
  { id: 'utf8-latin1', name: 'UTF-8 read as Latin-1', lossless: true, make: (s) => u8(s).toString('latin1') },
  { id: 'utf8-1252-whatwg', name: 'UTF-8 read as windows-1252 (browser)', lossless: true, make: (s) => whatwg(u8(s), 'windows-1252') },
  { id: 'utf8-double', name: 'UTF-8 garbled twice (read as Latin-1, saved as UTF-8, read as Latin-1 again)', lossless: true, make: (s) => u8(u8(s).toString('latin1')).toString('latin1') },
  { id: 'utf8-sjis-iconv', name: 'UTF-8 read as Shift_JIS (iconv-lite)', lossless: false, make: (s) => iconv.decode(u8(s), 'cp932') },
  { id: 'utf8-sjis-whatwg', name: 'UTF-8 read as Shift_JIS (browser)', lossless: false, make: (s) => whatwg(u8(s), 'shift_jis') },
  { id: 'euc-sjis-iconv', name: 'EUC-JP read as Shift_JIS (iconv-lite)', lossless: false, make: (s) => { const b = euc(s); return b && iconv.decode(b, 'cp932') } },
  { id: 'euc-sjis-whatwg', name: 'EUC-JP read as Shift_JIS (browser)', lossless: false, make: (s) => { const b = euc(s); return b && whatwg(b, 'shift_jis') } },
  { id: 'sjis-1252-iconv', name: 'Shift_JIS read as windows-1252 by a decoder that drops 81 8D 8F 90 9D', lossless: false, make: (s) => { const b = sj(s); return b && iconv.decode(b, 'windows-1252') } },
  { id: 'utf8-1252-iconv', name: 'UTF-8 read as windows-1252 by a decoder that drops 81 8D 8F 90 9D', lossless: false, make: (s) => iconv.decode(u8(s), 'windows-1252') },
  { id: 'iso2022-raw', name: 'raw ISO-2022-JP shown as is', lossless: true, make: (s) => iso2022(s)?.toString('latin1') ?? null },
  { id: 'iso2022-esc-lost', name: 'ISO-2022-JP with the ESC bytes lost', lossless: true, make: (s) => iso2022(s)?.toString('latin1').replace(/\u001b/g, '') ?? null },
  { id: 'iso2022-esc-caret', name: 'ISO-2022-JP with ESC shown as ^[', lossless: true, make: (s) => iso2022(s)?.toString('latin1').replace(/\u001b/g, '^[') ?? null },
  { id: 'ew-iso2022', name: 'undecoded =?ISO-2022-JP?B?…?=', lossless: true, make: (s) => { const b = iso2022(s); return b && `=?ISO-2022-JP?B?${b.toString('base64')}?=` } },
  { id: 'ew-sjis-q', name: 'undecoded =?Shift_JIS?Q?…?=', lossless: true, make: (s) => { const b = sj(s); return b && `=?Shift_JIS?Q?${qp(b).replace(/[?_ ]/g, (c) => '=' + c.charCodeAt(0).toString(16).toUpperCase())}?=` } },
  { id: 'ew-utf8', name: 'undecoded =?UTF-8?B?…?=', lossless: true, make: (s) => `=?UTF-8?B?${u8(s).toString('base64')}?=` },
  { id: 'qp-sjis', name: 'quoted-printable Shift_JIS left undecoded', lossless: true, make: (s) => { const b = sj(s); return b && qp(b) } },
  { id: 'qp-utf8', name: 'quoted-printable UTF-8 left undecoded', lossless: true, make: (s) => qp(u8(s)) },
  { id: 'b64-euc', name: 'base64 EUC-JP left undecoded', lossless: true, make: (s) => euc(s)?.toString('base64') ?? null },
  { id: 'b64-iso2022', name: 'base64 ISO-2022-JP left undecoded', lossless: true, make: (s) => iso2022(s)?.toString('base64') ?? null },
  { id: 'sjis-euc', name: 'Shift_JIS read as EUC-JP', lossless: false, beyond: true, make: (s) => { const b = sj(s); return b && iconv.decode(b, 'euc-jp') } },
  { id: 'sjis-utf8', name: 'Shift_JIS read as UTF-8', lossless: false, beyond: true, make: (s) => { const b = sj(s); return b && b.toString('utf8') } },
  { id: 'euc-utf8', name: 'EUC-JP read as UTF-8', lossless: false, beyond: true, make: (s) => { const b = euc(s); return b && b.toString('utf8') } }
]

export interface PathScore { id: string, name: string, lossless: boolean, beyond: boolean, total: number, right: number, chars: number, charsRight: number, misses: Array<{ passage: string, got: string }> }

/** Runs the repair over every (passage, path) pair; first candidate right when equal after normalise(). */
export function measure (repair: (s: string) => { candidates: Array<{ text: string }> }, paths = PATHS, passages = PASSAGES): PathScore[] {
  return paths.map((p) => {
    const s: PathScore = { id: p.id, name: p.name, lossless: p.lossless, beyond: p.beyond === true, total: 0, right: 0, chars: 0, charsRight: 0, misses: [] }
    for (const text of passages) {
      const garbled = p.make(text)
      if (garbled === null || garbled === text) continue
      s.total++
      const got = repair(garbled).candidates[0].text
      const a = [...normalise(got)]
      const b = [...normalise(text)]
      s.chars += b.length
      s.charsRight += a.length === b.length ? b.filter((c, i) => c === a[i]).length : 0
      if (normalise(got) === normalise(text)) s.right++
      else s.misses.push({ passage: text, got })
    }
    return s
  })
}

/** The goal of issue 14: first candidate right on 500 of 564 garblings, here scaled to the garblings that can come back. */
export const OVERALL_TARGET = 500 / 564

/** First candidate right over every path that can come back (the `beyond` ones left out): [right, total]. */
export function overall (scores: PathScore[]): [number, number] {
  return scores.filter((s) => !s.beyond).reduce((a, s) => [a[0] + s.right, a[1] + s.total], [0, 0])
}

export function formatScores (scores: PathScore[]): string {
  const lines = scores.map((s) => `${s.lossless ? 'lossless' : s.beyond ? 'beyond  ' : 'lossy   '}  ${String(s.right).padStart(3)}/${String(s.total).padEnd(3)} ${(s.total ? (100 * s.right / s.total) : 100).toFixed(0).padStart(3)} %  chars ${(s.chars ? (100 * s.charsRight / s.chars) : 100).toFixed(1).padStart(5)} %  ${s.name}`)
  const all = scores.reduce((a, s) => [a[0] + s.right, a[1] + s.total], [0, 0])
  const ov = overall(scores)
  return `${lines.join('\n')}\nfirst candidate right: ${ov[0]}/${ov[1]} (${(100 * ov[0] / ov[1]).toFixed(1)} %, target ${(100 * OVERALL_TARGET).toFixed(1)} %) on the paths that can come back; ${all[0]}/${all[1]} (${(100 * all[0] / all[1]).toFixed(1)} %) with the ${scores.filter((s) => s.beyond).length} beyond repair`
}
