// What one send-test report may store (REPORT_CAPS): a flood of transcript
// lines, over-long lines or steps ends in one "truncated" note, not in a
// report of megabytes.
import t from 'tap'
import { ReportBuilder } from '../../src/core/report.js'
import { capWriter, REPORT_CAPS } from '../../src/inbound/service.js'

t.test('transcript lines, line length and steps are capped, with a note', async (t) => {
  for (const lang of ['en', 'ja'] as const) {
    const events: unknown[] = []
    const b = new ReportBuilder('send', '127.0.0.1', lang, (e) => events.push(e))
    capWriter(b)
    for (let i = 0; i < 5000; i++) b.line('S', 'x'.repeat(5000))
    for (let i = 0; i < 500; i++) b.step('send-dkim', 'warn', 'y'.repeat(50_000))
    // the lines kept, the transcript's own note, and one note for the steps left out
    t.equal(b.report.transcript.length, REPORT_CAPS.transcriptLines + 2, `${lang}: lines capped`)
    t.match(b.report.transcript.at(-2)?.text, lang === 'en' ? /transcript truncated/ : /やりとりは省略しました/, `${lang}: with a note in the report's language`)
    t.match(b.report.transcript.at(-1)?.text, lang === 'en' ? /further results omitted/ : /確認結果は省略しました/, `${lang}: the steps left out are noted`)
    t.ok(b.report.transcript.every((l) => l.text.length <= REPORT_CAPS.lineChars + 100), 'each line bounded')
    t.equal(b.report.steps.length, REPORT_CAPS.steps, 'steps capped')
    const bytes = Buffer.byteLength(JSON.stringify(b.report))
    t.ok(bytes < 400 * 1024, `report ${Math.round(bytes / 1024)} KiB`)
  }
})
