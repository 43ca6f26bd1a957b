// The rules that Gmail and Yahoo publish for everyone who sends to their users, as of AS_OF.
// They change (Google added "use TLS" in December 2023, one-click unsubscribe became
// required in June 2024). When a page below changes, change this file: the date, the
// sources, the rules, and test/inbound/sender-rules.test.ts, which pins the counts.
//
// scope: 'all' = every sender; 'bulk' = senders of 5,000 or more messages a day to that
// receiver (both receivers use that line). basis: 'published' = on the receiver's page;
// 'practice' = not on the page, but what the receiver does (it refuses mail from addresses on
// the big block lists). Rules a single mail cannot show (spam rate below 0.3 %, honouring an
// unsubscribe within two days) are listed under notMeasured and never scored.

import type { NotMeasured, RuleId } from '../i18n/sender-rules.js'
export type { NotMeasured, RuleId }
export type ReceiverId = 'gmail' | 'yahoo'

export interface RuleEntry { rule: RuleId, scope: 'all' | 'bulk', basis: 'published' | 'practice' }
export interface ReceiverRules { id: ReceiverId, name: string, sources: string[], rules: RuleEntry[], notMeasured: NotMeasured[] }

const r = (rule: RuleId, scope: 'all' | 'bulk', basis: 'published' | 'practice' = 'published'): RuleEntry => ({ rule, scope, basis })

export const SENDER_RULES: { asOf: string, receivers: ReceiverRules[] } = {
  asOf: '2026-12-01',
  receivers: [
    {
      id: 'gmail',
      name: 'Gmail',
      sources: [
        'https://support.google.com/a/answer/81126', // Email sender guidelines
        'https://support.google.com/a/answer/14229414' // Email sender guidelines FAQ
      ],
      rules: [
        r('ptr', 'all'), // valid forward and reverse DNS (PTR) for the sending IP, IPv4 and IPv6
        r('auth', 'all'), // SPF or DKIM
        r('tls', 'all'), // a TLS connection for transmitting email
        r('format', 'all'), // RFC 5322: Message-ID, Date, From
        r('not_gmail_from', 'all'), // do not impersonate gmail.com in From:
        r('dnsbl', 'all', 'practice'),
        r('arc', 'all'), // forwarders: ARC headers (only scored when the mail carries a chain)
        r('spf_and_dkim', 'bulk'),
        r('dmarc', 'bulk'), // a DMARC record, p=none at least
        r('dmarc_aligned', 'bulk'), // the From domain aligned with SPF or DKIM
        r('one_click', 'bulk') // RFC 8058 one-click unsubscribe, for marketing and subscribed mail
      ],
      notMeasured: ['spam_rate', 'unsubscribe_in_2_days']
    },
    {
      id: 'yahoo',
      name: 'Yahoo',
      sources: [
        'https://senders.yahooinc.com/best-practices/' // Sender Requirements & Recommendations
      ],
      rules: [
        r('ptr', 'all'), // valid forward and reverse DNS for the sending IPs
        r('auth', 'all'), // SPF or DKIM
        r('format', 'all'), // comply with RFC 5322
        r('helo', 'all'), // comply with RFC 5321 (a fully qualified HELO/EHLO name)
        r('dnsbl', 'all', 'practice'),
        r('spf_and_dkim', 'bulk'),
        r('dmarc', 'bulk'),
        r('dmarc_aligned', 'bulk'),
        r('one_click', 'bulk')
      ],
      notMeasured: ['spam_rate', 'unsubscribe_in_2_days']
    }
  ]
}
