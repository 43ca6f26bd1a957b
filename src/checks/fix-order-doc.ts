// docs/FIX-ORDER.md, generated from the declarations in fix-order.ts
// (`npm run docs:fix-order` writes it; test/checks/fix-order.test.ts fails
// when the file is not what this renders).
import { FIX_ORDER, STAGES, type Finding, type Note } from './fix-order.js'
import { CAUSE_WORDS, LEVEL_WORDS, STAGE_WORDS } from '../i18n/fix-order.js'

export function renderFixOrderDoc (): string {
  const out: string[] = [
    '# The fix-first order',
    '',
    '<!-- Generated from src/checks/fix-order.ts by `npm run docs:fix-order`; do not edit by hand. -->',
    '',
    'The diagnosis (`POST /api/v1/checks/all`) merges the advice of its child',
    'checks into `fixFirst`: one entry per cause, worst harm first. Inside a',
    'level, the order in which fixes depend on each other: DNS, reachability,',
    'the server, mailboxes; inside a stage, the order of this table. The',
    "diagnosis's summary names the first entry's cause in words and what its",
    'level means. A code marked "(other port: N)" counts at level N when the',
    'port it is about is not 25 (and is then a cause of its own per port).',
    ''
  ]
  const findings = Object.entries(FIX_ORDER).filter((e): e is [string, Finding] => !('note' in e[1]))
  for (const level of [1, 2, 3, 4] as const) {
    const lw = LEVEL_WORDS[level]
    out.push(`## Level ${level}: ${lw.title.en} (${lw.title.ja})`, '', `${lw.en} / ${lw.ja}`, '')
    out.push('| stage | code | cause (en) | cause (ja) |', '| --- | --- | --- | --- |')
    const rows = findings.filter(([, d]) => d.level === level)
      .sort((a, b) => STAGES.indexOf(a[1].stage) - STAGES.indexOf(b[1].stage))
    for (const [code, d] of rows) {
      const p = { port: 25, local: 'postmaster' }
      const extra = d.otherPort ? ` (other port: ${d.otherPort})` : ''
      out.push(`| ${STAGE_WORDS[d.stage].en} | \`${code}\`${extra} | ${CAUSE_WORDS[d.cause].en(p)} | ${CAUSE_WORDS[d.cause].ja(p)} |`)
    }
    out.push('')
  }
  out.push('## Notes: never in the list', '', '| code | why |', '| --- | --- |')
  for (const [code, d] of Object.entries(FIX_ORDER).filter((e): e is [string, Note] => 'note' in e[1])) out.push(`| \`${code}\` | ${d.note} |`)
  out.push('')
  return out.join('\n')
}
