// Texts of the /docs page (src/web/docs-page.ts): the API with a curl
// example for each endpoint, and the embed snippet with every attribute.
import type { Lang } from './index.js'

export interface EndpointDoc {
  /** a stable key: the anchor and the example's choice in docs-page.ts */
  key: string
  title: string
  text: string
}

export interface DocsText {
  title: string
  intro: string
  tocLabel: string
  basicsTitle: string
  basics: string[]
  endpointsTitle: string
  endpoints: EndpointDoc[]
  exampleLabel: string
  answersTitle: string
  answers: Array<{ code: string, text: string }>
  embedTitle: string
  embedIntro: string
  attrName: string
  attrMeaning: string
  attrs: Array<{ name: string, text: string, values: string, example?: boolean }>
  valuesLabel: string
  exampleValue: string
  embedNote: string
  specTitle: string
  specUi: string
  specJson: string
  specNote: string
}

const en: DocsText = {
  title: 'API and embedding',
  intro: 'Everything this site does can also be done with its JSON API, for example with curl in an SSH session on your server. Like the pages, every check tests only the address the request comes from: run curl on the network of the mail server you want to test.',
  tocLabel: 'On this page',
  basicsTitle: 'The basics',
  basics: [
    'Language: add `?lang=ja` or `?lang=en` (else `Accept-Language` decides). It is the language of everything mxprobe writes; what a server sent stays as it was sent.',
    'Plain text: with the header `Accept: text/plain` a check and a stored report answer with the same text as the forum copy on the result page, readable right in the terminal.',
    'Waiting: a POST waits until the check has finished. With `?async=1` it answers at once (202) with the `id`; the report grows at `/api/v1/checks/{id}/events` (Server-Sent Events) and is stored at `/api/v1/checks/{id}`.',
    'A report has `id`, `type`, `status` (`pass`, `warn`, `fail`, `error`; `running` while it runs), `summary`, `steps`, `transcript` and `advice`. Its page is `/r/{id}`, its forum text `/r/{id}.txt`.'
  ],
  endpointsTitle: 'Endpoints',
  endpoints: [
    { key: 'ip', title: 'Your IP address', text: 'The address mxprobe sees you coming from, its family and reverse DNS (PTR).' },
    { key: 'all', title: 'The whole diagnosis', text: 'One input (a domain, a mail address or a URL) runs DNS, ports, SMTP, receive, mailboxes and relay; `fixFirst` lists what to fix, worst harm first.' },
    { key: 'dns', title: 'DNS / MX', text: 'Where mail for the domain goes and whether that is your IP. Opens no connection.' },
    { key: 'ports', title: 'Ports', text: 'Which mail ports answer from the internet. Default 25, 110, 143, 465, 587, 993, 995.' },
    { key: 'smtp', title: 'SMTP server', text: 'Greeting, EHLO, STARTTLS and the certificate on port 25, without sending mail.' },
    { key: 'receive', title: 'Receive test', text: 'Delivers one real test mail to the address, with the whole dialogue.' },
    { key: 'relay', title: 'Open relay', text: 'Tries to relay mail to an outside domain in many ways; no mail is sent.' },
    { key: 'roles', title: 'Required mailboxes', text: 'Whether `postmaster@` and `abuse@` accept mail (RCPT only).' },
    { key: 'pop3', title: 'POP3', text: 'The POP3 server; with `username` and `password` a login over TLS (the password is never shown, logged or stored).' },
    { key: 'tls', title: 'TLS', text: 'Certificates on every TLS port, versions and ciphers, DNSSEC, DANE, MTA-STS and TLS-RPT.' },
    { key: 'send', title: 'Send test', text: 'Answers at once with a one-time address; send a mail to it from your server and follow the events for what a receiving server sees.' },
    { key: 'report', title: 'A stored report', text: 'The report as JSON, or as plain text with `Accept: text/plain`.' },
    { key: 'events', title: 'A report as it grows', text: 'Server-Sent Events: `transcript`, `step`, `advice`, then `done` with the whole report.' },
    { key: 'headers', title: 'Header analysis', text: 'The path and the verdict of a mail\'s header block (the raw text as a JSON string).' },
    { key: 'mojibake', title: 'Mojibake repair', text: 'Candidate repairs of garbled text, most plausible first.' }
  ],
  exampleLabel: 'Example',
  answersTitle: 'When a check does not run',
  answers: [
    { code: '400', text: 'bad input: the message says which field and why.' },
    { code: '403', text: 'the target rule forbids the test (the MX is not your IP, a LAN address in the MX, no MX): the answer says what DNS says and what your address is, and has the id of a stored report to share.' },
    { code: '429', text: 'over a rate limit: `Retry-After` says when to try again.' },
    { code: '503', text: 'a store mxprobe needs is down, or the send test is off on this server.' }
  ],
  embedTitle: 'A check button on your own site',
  embedIntro: 'Writing a tutorial about home mail servers? Put this tag where the button should appear. The button lives in a frame served by mxprobe, so your page cannot script into it and neither page\'s styles leak into the other. The check always tests the reader\'s own network.',
  attrName: 'Attribute',
  attrMeaning: 'Meaning',
  valuesLabel: 'values',
  exampleValue: 'for example',
  attrs: [
    { name: 'data-check', text: 'which check the button runs (default `dns`)', values: 'ip, dns, ports, receive, relay, smtp, roles, pop3' },
    { name: 'data-lang', text: 'the button\'s language (default: the `lang` of your page, else the reader\'s browser)', values: 'ja, en' },
    { name: 'data-target', text: 'a CSS selector of the element to put the button in (default: right after the tag)', values: '#mail-test', example: true }
  ],
  embedNote: 'The frame sets its own height; nothing else crosses between your page and it.',
  specTitle: 'OpenAPI description',
  specUi: 'Browsable OpenAPI page (English)',
  specJson: 'OpenAPI JSON',
  specNote: 'Generated from the routes\' own schemas, so it is always the current contract.'
}

const ja: DocsText = {
  title: 'API と埋め込みの使い方',
  intro: 'このサイトでできるテストは、すべて JSON の API からも使えます。たとえばサーバーに SSH でログインして curl で実行できます。ページと同じく、テストするのはリクエストを送ってきた IP アドレスだけです。テストしたいメールサーバーと同じ回線から curl を実行してください。',
  tocLabel: 'このページの内容',
  basicsTitle: '基本',
  basics: [
    '言語: URL に `?lang=ja` か `?lang=en` を付けます (付けなければ `Accept-Language` で決まります)。mxprobe が書く文章すべての言語です。サーバーが返した文字列はそのまま表示します。',
    'テキストで受け取る: `Accept: text/plain` ヘッダーを付けると、テストと保存された結果は、結果ページの「質問掲示板に貼り付ける用」と同じ文章で返ります。ターミナルでそのまま読めます。',
    '待ち方: POST はテストが終わるまで待ちます。`?async=1` を付けるとすぐに 202 と `id` を返し、途中経過は `/api/v1/checks/{id}/events` (Server-Sent Events) に流れ、結果は `/api/v1/checks/{id}` に保存されます。',
    '結果には `id`、`type`、`status` (`pass`, `warn`, `fail`, `error`。実行中は `running`)、`summary`、`steps`、`transcript`、`advice` が入っています。結果のページは `/r/{id}`、掲示板用のテキストは `/r/{id}.txt` です。'
  ],
  endpointsTitle: 'エンドポイント',
  endpoints: [
    { key: 'ip', title: 'あなたの IP アドレス', text: 'mxprobe から見えるあなたの IP アドレス、その種類 (IPv4 / IPv6) と逆引き (PTR)。' },
    { key: 'all', title: 'まとめて診断', text: 'ドメイン、メールアドレス、URL のどれか 1 つで、DNS、ポート、SMTP、受信、必須アドレス、第三者中継をまとめてテストします。`fixFirst` には直すべき点が、影響の大きい順に並びます。' },
    { key: 'dns', title: 'DNS / MX', text: 'そのドメイン宛てのメールがどこへ届くか、それがあなたの IP かを調べます。サーバーには接続しません。' },
    { key: 'ports', title: 'ポート開放', text: 'メール用のポートがインターネットから届くかを調べます。指定しなければ 25, 110, 143, 465, 587, 993, 995 です。' },
    { key: 'smtp', title: 'SMTP サーバー', text: '25 番ポートの挨拶、EHLO、STARTTLS、証明書を調べます。メールは送りません。' },
    { key: 'receive', title: '受信テスト', text: 'そのアドレスに本物のテストメールを 1 通配送し、やりとりをすべて記録します。' },
    { key: 'relay', title: '第三者中継', text: '外部のドメイン宛てにいろいろな方法で中継を試します。メールは送りません。' },
    { key: 'roles', title: '必須アドレス', text: '`postmaster@` と `abuse@` がメールを受け付けるかを調べます (RCPT まで)。' },
    { key: 'pop3', title: 'POP3', text: 'POP3 サーバーを調べます。`username` と `password` を渡すと TLS 上でログインを試します (パスワードは表示も記録も保存もしません)。' },
    { key: 'tls', title: 'TLS', text: 'TLS を使う全ポートの証明書、TLS のバージョンと暗号、DNSSEC、DANE、MTA-STS、TLS-RPT を調べます。' },
    { key: 'send', title: '送信テスト', text: 'すぐに使い捨てのアドレスを返します。あなたのサーバーからそこへメールを送ると、受信側から見た結果がイベントで届きます。' },
    { key: 'report', title: '保存された結果', text: '結果を JSON で返します。`Accept: text/plain` ならテキストで返します。' },
    { key: 'events', title: '途中経過', text: 'Server-Sent Events で `transcript`、`step`、`advice` が順に流れ、最後に結果全体が `done` で届きます。' },
    { key: 'headers', title: 'ヘッダー解析', text: 'メールのヘッダーから、経路となりすましの判定を返します (ヘッダーは JSON の文字列で渡します)。' },
    { key: 'mojibake', title: '文字化け修復', text: '文字化けした文章の修復候補を、もっともらしい順に返します。' }
  ],
  exampleLabel: '例',
  answersTitle: 'テストが実行されないとき',
  answers: [
    { code: '400', text: '入力の誤り。どの項目がなぜ駄目かを返します。' },
    { code: '403', text: '接続先のルールでテストできません (MX があなたの IP ではない、MX に LAN 内のアドレス、MX がない)。DNS の登録内容とあなたの IP アドレスを返し、共有できる結果の id も付きます。' },
    { code: '429', text: '回数制限を超えました。`Retry-After` に待つ秒数が入ります。' },
    { code: '503', text: 'mxprobe が使うデータベースが止まっているか、このサーバーでは送信テストが無効です。' }
  ],
  embedTitle: '自分のサイトにテストボタンを置く',
  embedIntro: '自宅メールサーバーの解説ページを書いているなら、ボタンを出したい場所にこのタグを貼ってください。ボタンは mxprobe が配信する iframe の中で動くので、あなたのページのスクリプトからは触れず、お互いのスタイルも混ざりません。テストするのは、いつも読者自身の回線です。',
  attrName: '属性',
  attrMeaning: '意味',
  valuesLabel: '値',
  exampleValue: '例',
  attrs: [
    { name: 'data-check', text: 'ボタンで実行するテスト (指定しなければ `dns`)', values: 'ip, dns, ports, receive, relay, smtp, roles, pop3' },
    { name: 'data-lang', text: 'ボタンの言語 (指定しなければ、あなたのページの `lang`、なければ読者のブラウザの言語)', values: 'ja, en' },
    { name: 'data-target', text: 'ボタンを入れる要素の CSS セレクター (指定しなければタグのすぐ後ろ)', values: '#mail-test', example: true }
  ],
  embedNote: 'iframe の高さは自動で合わせます。それ以外のやりとりはありません。',
  specTitle: 'OpenAPI の仕様',
  specUi: 'OpenAPI の説明ページ (英語)',
  specJson: 'OpenAPI の JSON',
  specNote: 'ルートのスキーマから自動で作っているので、いつも最新の仕様です。'
}

export function docsText (lang: Lang): DocsText { return lang === 'ja' ? ja : en }
