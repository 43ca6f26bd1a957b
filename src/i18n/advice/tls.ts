// Advice of the tls check: certificates on every port, protocol versions
// and ciphers, DNSSEC, DANE, MTA-STS and TLS-RPT, each with the Postfix or
// Dovecot setting that fixes it. Dates are written as people write them
// (2026年12月21日, 21 Dec 2026), never as ISO strings.
import type { AdviceCatalogue } from '../index.js'

const list = (v: unknown): string => Array.isArray(v) ? v.join(', ') : String(v ?? '')
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const jaDate = (iso: unknown): string => { const d = new Date(String(iso)); return Number.isNaN(d.getTime()) ? String(iso ?? '') : `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日` }
const enDate = (iso: unknown): string => { const d = new Date(String(iso)); return Number.isNaN(d.getTime()) ? String(iso ?? '') : `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}` }
const ports = (v: unknown): string => list(v)
const live = (host: unknown): string => `/etc/letsencrypt/live/${String(host ?? 'mx.example.jp')}`

export const TLS_ADVICE: AdviceCatalogue = {
  // ---- certificates ----
  'tls.cert_missing_intermediate': {
    en: (p) => `Port ${ports(p.ports)} sends only the server's own certificate, without the intermediate certificate that links it to a trusted root (Let's Encrypt's cert.pem instead of fullchain.pem). Browsers often hide this, but mail servers do not fetch missing intermediates: senders that check certificates (MTA-STS, and most mail programs) fail. Postfix: smtpd_tls_chain_files = ${live(p.host)}/privkey.pem, ${live(p.host)}/fullchain.pem (or smtpd_tls_cert_file = ${live(p.host)}/fullchain.pem). Dovecot: ssl_cert = <${live(p.host)}/fullchain.pem. Then reload the daemon.`,
    ja: (p) => `ポート ${ports(p.ports)} はサーバー自身の証明書だけを送っていて、信頼されたルートにつながる中間証明書がありません (Let's Encrypt の fullchain.pem ではなく cert.pem を指定している状態です)。ブラウザーでは気づきにくいのですが、メールサーバーは足りない中間証明書を取りに行かないため、証明書を検証する送信側 (MTA-STS) やメールソフトでエラーになります。Postfix は smtpd_tls_chain_files = ${live(p.host)}/privkey.pem, ${live(p.host)}/fullchain.pem (または smtpd_tls_cert_file = ${live(p.host)}/fullchain.pem)、Dovecot は ssl_cert = <${live(p.host)}/fullchain.pem にして、再読み込みしてください。`
  },
  'tls.cert_incomplete_chain': {
    en: (p) => `The chain that port ${ports(p.ports)} sends stops at an intermediate whose own issuer is missing: no path to a trusted root. Serve the full chain file your CA gives (fullchain.pem), not a hand-assembled one.`,
    ja: (p) => `ポート ${ports(p.ports)} が送る証明書チェーンは途中の中間証明書で止まっていて、信頼されたルートまでたどれません。自分でつなぎ合わせたファイルではなく、認証局が用意した fullchain.pem を指定してください。`
  },
  'tls.cert_self_signed': {
    en: (p) => `Port ${ports(p.ports)} presents a self-signed certificate (${p.subject}). Mail to port 25 still arrives: senders use STARTTLS opportunistically and do not check it. Two ways make it trusted: a certificate from a public CA (Let's Encrypt, free, for ${p.host}), which MTA-STS and mail programs need; or, if the zone is signed with DNSSEC, a DANE-EE record "3 1 1" at _25._tcp.${p.host}, which is the standard way to vouch for a self-signed certificate to DANE senders.`,
    ja: (p) => `ポート ${ports(p.ports)} の証明書 (${p.subject}) は自己署名です。25 番ポートへのメールはこのままでも届きます (送信側は STARTTLS を「使えれば使う」だけで、証明書を検証しません)。信頼される証明書にする方法は 2 つあります。公的な認証局の証明書 (Let's Encrypt なら ${p.host} の分を無料で取得できます) は MTA-STS やメールソフトのために必要です。ゾーンを DNSSEC で署名しているなら、_25._tcp.${p.host} に DANE-EE の「3 1 1」TLSA レコードを公開するのが、自己署名の証明書を DANE 対応の送信側に信頼させる標準の方法です。`
  },
  'tls.cert_untrusted_root': {
    en: (p) => `Port ${ports(p.ports)} sends a chain that ends at a root nobody trusts (${p.root}): a private CA. Only machines that installed that root can check it. Use a certificate from a public CA such as Let's Encrypt for ${p.host}.`,
    ja: (p) => `ポート ${ports(p.ports)} の証明書チェーンは、誰も信頼していないルート (${p.root}) で終わっています。自前の認証局 (プライベート CA) の証明書で、そのルートを入れたパソコンでしか検証できません。${p.host} の証明書を Let's Encrypt などの公的な認証局で取得してください。`
  },
  'tls.cert_expired': {
    en: (p) => `The certificate on port ${ports(p.ports)} expired on ${enDate(p.validTo)}. Mail programs refuse it and senders with MTA-STS stop delivering. Renew it (certbot renew) and reload Postfix and Dovecot; make sure the renewal runs by itself (systemctl list-timers | grep certbot).`,
    ja: (p) => `ポート ${ports(p.ports)} の証明書は ${jaDate(p.validTo)} に期限が切れています。メールソフトは接続を拒否し、MTA-STS を使う送信側は配送を止めます。証明書を更新 (certbot renew) して Postfix と Dovecot を再読み込みし、自動更新が動いているか (systemctl list-timers | grep certbot) も確認してください。`
  },
  'tls.cert_not_yet_valid': {
    en: (p) => `The certificate on port ${ports(p.ports)} is only valid from ${enDate(p.validFrom)}: the server's clock, or the certificate's, is wrong. Check the server's time (timedatectl) and the certificate.`,
    ja: (p) => `ポート ${ports(p.ports)} の証明書は ${jaDate(p.validFrom)} からしか有効になりません。サーバーか証明書の日時がずれています。サーバーの時刻 (timedatectl) と証明書を確認してください。`
  },
  'tls.cert_expiring': {
    en: (p) => `The certificate on port ${ports(p.ports)} expires on ${enDate(p.validTo)}, in ${p.days} day${p.days === 1 ? '' : 's'}: less than a third of its ${p.lifetime}-day life is left, the point where ACME clients such as certbot renew. If it does not renew soon, check that the renewal timer runs and that a deploy hook reloads the daemons (certbot renew --deploy-hook "systemctl reload postfix dovecot").`,
    ja: (p) => `ポート ${ports(p.ports)} の証明書は ${jaDate(p.validTo)} に期限が切れます (残り ${p.days} 日)。有効期間 ${p.lifetime} 日の 3 分の 1 を切っていて、certbot などの ACME クライアントなら更新している時期です。近いうちに更新されない場合は、自動更新のタイマーが動いているか、更新後にデーモンを再読み込みする設定 (certbot renew --deploy-hook "systemctl reload postfix dovecot") があるかを確認してください。`
  },
  'tls.cert_name_mismatch': {
    en: (p) => `The certificate on port ${ports(p.ports)} is for ${list(p.names)}, not for ${p.host}, the name senders and mail programs connect to. Get a certificate that includes ${p.host} (certbot certonly -d ${p.host}) and point Postfix and Dovecot at it.`,
    ja: (p) => `ポート ${ports(p.ports)} の証明書は ${list(p.names)} 用で、送信側やメールソフトが接続に使う名前 ${p.host} が入っていません。${p.host} を含む証明書を取得し (certbot certonly -d ${p.host})、Postfix と Dovecot の設定でその証明書を指定してください。`
  },
  'tls.cert_differs': {
    en: (p) => `Port ${ports(p.older)} serves an older certificate (valid until ${enDate(p.olderUntil)}) than port ${ports(p.newer)} (until ${enDate(p.newerUntil)}). The certificate was renewed, but ${p.daemon === 'dovecot' ? 'Dovecot' : 'Postfix'} still has the old one in memory: reload it (${p.daemon === 'dovecot' ? 'systemctl reload dovecot' : 'postfix reload'}), and add a deploy hook so every renewal reloads both (certbot renew --deploy-hook "systemctl reload postfix dovecot").`,
    ja: (p) => `ポート ${ports(p.older)} はポート ${ports(p.newer)} (期限 ${jaDate(p.newerUntil)}) より古い証明書 (期限 ${jaDate(p.olderUntil)}) を出しています。証明書は更新されたのに、${p.daemon === 'dovecot' ? 'Dovecot' : 'Postfix'} が古い証明書を読み込んだままです。${p.daemon === 'dovecot' ? 'Dovecot を再読み込みしてください (systemctl reload dovecot)' : 'Postfix を再読み込みしてください (postfix reload)'}。今後の更新でも両方が再読み込みされるよう、certbot renew --deploy-hook "systemctl reload postfix dovecot" を設定しておくと安心です。`
  },
  'tls.cert_different_names': {
    en: (p) => `The ports do not all serve the same certificate (${list(p.groups)}). That works if each certificate is valid for ${p.host}, but one certificate for all of them is easier to keep renewed.`,
    ja: (p) => `ポートごとに違う証明書が使われています (${list(p.groups)})。どれも ${p.host} で有効なら問題ありませんが、1 枚の証明書にまとめると更新の管理が楽になります。`
  },
  'tls.weak_key': {
    en: (p) => `The certificate on port ${ports(p.ports)} has a ${p.keyType} key of only ${p.bits} bits. Use at least RSA 2048 or an ECDSA P-256 key (certbot --key-type ecdsa).`,
    ja: (p) => `ポート ${ports(p.ports)} の証明書の鍵は ${p.keyType} ${p.bits} ビットで短すぎます。RSA なら 2048 ビット以上、または ECDSA P-256 (certbot --key-type ecdsa) を使ってください。`
  },
  // ---- versions and ciphers ----
  'tls.sslv3': {
    en: (p) => `Port ${ports(p.ports)} still accepts SSLv3, broken since 2014 (POODLE). Turn it off. Postfix: smtpd_tls_protocols = >=TLSv1.2 and smtpd_tls_mandatory_protocols = >=TLSv1.2. Dovecot: ssl_min_protocol = TLSv1.2.`,
    ja: (p) => `ポート ${ports(p.ports)} はいまだに SSLv3 を受け付けます。SSLv3 は 2014 年 (POODLE) から破られている方式なので無効にしてください。Postfix は smtpd_tls_protocols = >=TLSv1.2 と smtpd_tls_mandatory_protocols = >=TLSv1.2、Dovecot は ssl_min_protocol = TLSv1.2 です。`
  },
  'tls.legacy_versions': {
    en: (p) => `Port ${ports(p.ports)} still accepts ${p.version} (TLS 1.0 and 1.1 are deprecated by RFC 8996). Every current mail program and server speaks TLS 1.2. Postfix: smtpd_tls_protocols = >=TLSv1.2 (and smtpd_tls_mandatory_protocols = >=TLSv1.2 for 465/587). Dovecot: ssl_min_protocol = TLSv1.2.`,
    ja: (p) => `ポート ${ports(p.ports)} はまだ ${p.version} を受け付けます (TLS 1.0 と 1.1 は RFC 8996 で廃止されました)。今のメールソフトやメールサーバーはすべて TLS 1.2 に対応しています。Postfix は smtpd_tls_protocols = >=TLSv1.2 (465/587 用に smtpd_tls_mandatory_protocols = >=TLSv1.2 も)、Dovecot は ssl_min_protocol = TLSv1.2 にしてください。`
  },
  'tls.weak_cipher': {
    en: (p) => `Port ${ports(p.ports)} accepts a weak cipher (${p.cipher}, ${p.kind}) when a client offers nothing better. Remove them. Postfix: smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5 (and keep smtpd_tls_ciphers = medium with the default tls_medium_cipherlist). Dovecot: ssl_cipher_list = HIGH:!aNULL:!MD5:!3DES:!RC4.`,
    ja: (p) => `ポート ${ports(p.ports)} は、相手が他を提示しないと弱い暗号 (${p.cipher}、${p.kind}) を受け入れます。無効にしてください。Postfix は smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5 (smtpd_tls_ciphers = medium と既定の tls_medium_cipherlist はそのまま)、Dovecot は ssl_cipher_list = HIGH:!aNULL:!MD5:!3DES:!RC4 です。`
  },
  'tls.handshake_failed': {
    en: (p) => `TLS on port ${p.port} failed: ${p.reason}. Current senders and mail programs cannot use it. Check the daemon's log for the TLS error, and the certificate and key files it names.`,
    ja: (p) => `ポート ${p.port} の TLS 接続に失敗しました (${p.reason})。今の送信サーバーやメールソフトでは使えません。デーモンのログの TLS エラーと、設定した証明書・鍵のファイルを確認してください。`
  },
  'tls.no_starttls': {
    en: (p) => `Port ${p.port} answers but offers no STARTTLS (${p.reason}): what is sent there travels unencrypted. Postfix: smtpd_tls_security_level = may with a certificate. Dovecot: ssl = yes.`,
    ja: (p) => `ポート ${p.port} は応答しますが STARTTLS がありません (${p.reason})。ここで送られるものは暗号化されません。Postfix は smtpd_tls_security_level = may と証明書の設定、Dovecot は ssl = yes にしてください。`
  },
  // ---- DNSSEC ----
  'tls.dnssec_bogus': {
    en: (p) => `DNSSEC validation of ${p.name} fails (${p.reason}). Validating resolvers, which most large mail providers use, then cannot look up your domain at all: mail does not arrive. Usually a signature expired (the signing job stopped) or the DS record at the registrar does not match the zone's key after a key change. Re-sign the zone, or fix or remove the DS record at the registrar.`,
    ja: (p) => `${p.name} の DNSSEC 検証が失敗しています (${p.reason})。大手のメールサービスが使う検証リゾルバーからはドメインそのものが引けなくなり、メールが届きません。多くは署名の期限切れ (自動署名が止まっている) か、鍵を変えた後にレジストラの DS レコードがゾーンの鍵と合わなくなったことが原因です。ゾーンを署名し直すか、レジストラで DS レコードを直す (または削除する) してください。`
  },
  'tls.dnssec_no_resolver': {
    en: () => 'DNSSEC was not judged: mxprobe has no validating resolver it may believe (the operator sets DNSSEC_RESOLVERS, or a resolver on loopback). DANE needs DNSSEC, so it was not judged either.',
    ja: () => 'DNSSEC は判定していません。mxprobe に信頼できる検証リゾルバーが設定されていないためです (運営者が DNSSEC_RESOLVERS を設定するか、ループバック上のリゾルバーを使います)。DANE も DNSSEC が前提なので判定していません。'
  },
  // ---- DANE ----
  'tls.dane_mismatch': {
    en: (p) => `No TLSA record at ${p.name} matches the certificate port 25 presents. Senders that use DANE (many large European providers, Postfix with smtp_dns_support_level = dnssec) will not deliver to you at all. Publish a record that matches now (for the current key: ${p.wanted}), and remove the stale one after the TTL has passed. To roll keys without an outage: publish the new key's TLSA record first and switch the certificate a few TTLs later, or keep the key across renewals (certbot --reuse-key) so a "3 1 1" record stays valid.`,
    ja: (p) => `${p.name} のどの TLSA レコードも、25 番ポートが出している証明書と一致しません。DANE を使う送信側 (ヨーロッパの大手プロバイダーや、smtp_dns_support_level = dnssec の Postfix など) は、あなたのサーバーへまったく配送しなくなります。今の鍵に合うレコード (${p.wanted}) をすぐ公開し、古いレコードは TTL が過ぎてから削除してください。停止せずに鍵を替えるには、新しい鍵の TLSA レコードを先に公開して TTL の数倍待ってから証明書を切り替えるか、更新しても鍵を変えない設定 (certbot --reuse-key) にして「3 1 1」のレコードを使い続けます。`
  },
  'tls.dane_ee_ok': {
    en: (p) => `The DANE-EE record at ${p.name} matches the certificate on port 25${p.selfSigned ? ', so its being self-signed does not matter to DANE senders: they trust it by this record' : ''}. Keep the record in step with the key: with certbot use --reuse-key, or publish the new record before each key change.`,
    ja: (p) => `${p.name} の DANE-EE レコードが 25 番ポートの証明書と一致しています${p.selfSigned ? '。自己署名でも、DANE 対応の送信側はこのレコードを根拠に信頼します' : ''}。鍵とレコードの対応を保ってください (certbot なら --reuse-key、鍵を変えるときは新しいレコードを先に公開します)。`
  },
  'tls.dane_unusable': {
    en: (p) => `TLSA records at ${p.name} that senders cannot use: ${list(p.records)}. For SMTP only usages 2 (DANE-TA) and 3 (DANE-EE) count (RFC 7672); "3 1 1" is the usual choice.`,
    ja: (p) => `${p.name} に送信側が使えない TLSA レコードがあります: ${list(p.records)}。SMTP で意味を持つのは用途 2 (DANE-TA) と 3 (DANE-EE) だけです (RFC 7672)。ふつうは「3 1 1」を使います。`
  },
  'tls.tlsa_insecure': {
    en: (p) => `There are TLSA records at ${p.name}, but the zone is not signed with DNSSEC (or the chain of trust from the parent is missing), so senders ignore them. Sign the zone and publish the DS record at the registrar, or remove the TLSA records.`,
    ja: (p) => `${p.name} に TLSA レコードがありますが、ゾーンが DNSSEC で署名されていない (または親ゾーンからの信頼の連鎖がない) ため、送信側は無視します。ゾーンを署名してレジストラに DS レコードを登録するか、TLSA レコードを削除してください。`
  },
  // ---- MTA-STS ----
  'tls.mta_sts_record_bad': {
    en: (p) => `The _mta-sts TXT record is not usable: ${p.problem}. It should read "v=STSv1; id=20261207T0000;" (change the id whenever the policy changes).`,
    ja: (p) => `_mta-sts の TXT レコードが正しくありません: ${p.problem}。「v=STSv1; id=20261207T0000;」の形にしてください (ポリシーを変えるたびに id も変えます)。`
  },
  'tls.mta_sts_fetch_failed': {
    en: (p) => `The _mta-sts record announces a policy, but ${p.url} could not be fetched (${p.problem}). Senders then keep a policy they cached earlier, or use none. Serve the file over HTTPS with a valid certificate for mta-sts.${p.domain}.`,
    ja: (p) => `_mta-sts レコードでポリシーを宣言していますが、${p.url} を取得できませんでした (${p.problem})。送信側は以前に保存したポリシーを使い続けるか、ポリシーなしとして扱います。mta-sts.${p.domain} の有効な証明書で、HTTPS でファイルを公開してください。`
  },
  'tls.mta_sts_redirect': {
    en: (p) => `${p.url} answers with a redirect (HTTP ${p.status} to ${p.location}). RFC 8461 forbids following redirects for the policy, so senders treat this as no policy. Serve the file itself at exactly that URL.`,
    ja: (p) => `${p.url} はリダイレクト (HTTP ${p.status}、転送先 ${p.location}) を返します。RFC 8461 ではポリシーのリダイレクトをたどってはいけないため、送信側はポリシーなしとして扱います。その URL でファイルそのものを返してください。`
  },
  'tls.mta_sts_policy_bad': {
    en: (p) => `The MTA-STS policy is not valid: ${list(p.problems)}. A policy has "version: STSv1", "mode: enforce|testing|none", one "mx:" line per MX host (or pattern like *.example.jp), and "max_age:" in seconds.`,
    ja: (p) => `MTA-STS のポリシーが正しくありません: ${list(p.problems)}。ポリシーには「version: STSv1」「mode: enforce か testing か none」、MX ホストごと (または *.example.jp のようなパターン) の「mx:」行、秒数の「max_age:」が必要です。`
  },
  'tls.mta_sts_mx_unmatched': {
    en: (p) => `The MX host ${p.host} matches none of the policy's mx lines (${list(p.patterns)}). In enforce mode senders will not deliver to it. Add "mx: ${p.host}" to the policy and change the id in the _mta-sts record.`,
    ja: (p) => `MX ホスト ${p.host} がポリシーのどの mx 行 (${list(p.patterns)}) にも一致しません。enforce モードでは送信側がこのホストへ配送しません。ポリシーに「mx: ${p.host}」を追加し、_mta-sts レコードの id を変えてください。`
  },
  'tls.mta_sts_enforce_broken': {
    en: (p) => `The MTA-STS policy is in enforce mode, but the certificate on port 25 of ${p.host} is not valid for senders (${p.why}). Senders that honour MTA-STS (Gmail, Outlook.com and others) stop delivering to you. Fix the certificate first (a public CA's certificate for ${p.host}), or set "mode: testing" until it is fixed.`,
    ja: (p) => `MTA-STS ポリシーは enforce モードなのに、${p.host} の 25 番ポートの証明書が送信側から見て有効ではありません (${p.why})。MTA-STS に従う送信側 (Gmail や Outlook.com など) はあなたのサーバーへの配送を止めます。先に証明書を直す (${p.host} の公的な認証局の証明書にする) か、直るまで「mode: testing」にしてください。`
  },
  'tls.mta_sts_testing_broken': {
    en: (p) => `The MTA-STS policy is in testing mode and the certificate on port 25 of ${p.host} would fail it (${p.why}). Mail still arrives, and TLS-RPT reports would show the failures; fix the certificate before switching to enforce.`,
    ja: (p) => `MTA-STS ポリシーは testing モードで、${p.host} の 25 番ポートの証明書はこのポリシーを満たしていません (${p.why})。メールは届きますが、TLS-RPT のレポートには失敗として記録されます。enforce にする前に証明書を直してください。`
  },
  // ---- TLS-RPT ----
  'tls.tlsrpt_bad': {
    en: (p) => `The TLS-RPT record (_smtp._tls) is not usable: ${list(p.problems)}. It should read like "v=TLSRPTv1; rua=mailto:tlsrpt@${p.domain}".`,
    ja: (p) => `TLS-RPT のレコード (_smtp._tls) が正しくありません: ${list(p.problems)}。「v=TLSRPTv1; rua=mailto:tlsrpt@${p.domain}」のように書きます。`
  },
  'tls.tlsrpt_missing': {
    en: (p) => `You publish ${p.what}, but no TLS-RPT record: senders cannot tell you when TLS to your server fails. Add a TXT record at _smtp._tls.${p.domain}: "v=TLSRPTv1; rua=mailto:tlsrpt@${p.domain}".`,
    ja: (p) => `${p.what} を公開していますが、TLS-RPT のレコードがありません。このままでは、あなたのサーバーへの TLS 接続が失敗しても送信側から知らせが届きません。_smtp._tls.${p.domain} に「v=TLSRPTv1; rua=mailto:tlsrpt@${p.domain}」という TXT レコードを追加してください。`
  }
}
