// Runs SpamAssassin (Debian package `spamassassin`) over the origin test set
// (test/tools/origin-corpus.ts) and records, for each message, the address
// of its first untrusted relay (_RELAYSUNTRUSTED_) with SpamAssassin's
// default trust inference (no trusted_networks). The result is checked in
// as test/tools/fixtures/origin-spamassassin.json, so the test compares
// against the peer without running Perl for a minute.
//   npx tsx-free: TS_NODE_TRANSPILE_ONLY=1 node --import=@tapjs/typescript/import scripts/sa-origin.ts
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { ORIGIN_CASES } from '../test/tools/origin-corpus.js'

const mbox = ORIGIN_CASES.map((c, i) => `From case${i}@mxprobe.test Mon Jan 15 10:00:00 2024\n${c.raw.replace(/\r\n/g, '\n')}\n`).join('\n')
const r = spawnSync('spamassassin', ['-L', '-t', '--mbox', '--cf=add_header all MxprobeCase _RELAYSUNTRUSTED_'], { input: mbox, encoding: 'utf8', maxBuffer: 64 << 20 })
if (r.status !== 0 && !r.stdout) {
  console.error(r.stderr)
  process.exit(1)
}
const version = spawnSync('spamassassin', ['-V'], { encoding: 'utf8' }).stdout.split('\n')[0]
const out: Record<string, string | null> = {}
const parts = r.stdout.split(/^From case(\d+)@mxprobe\.test /m)
for (let k = 1; k < parts.length; k += 2) {
  const i = Number(parts[k])
  const msg = parts[k + 1]
  const head = msg.split(/\n\n/)[0].replace(/\n[ \t]+/g, ' ')
  const line = head.split('\n').find((l) => /^X-Spam-MxprobeCase:/i.test(l)) ?? ''
  const ip = line.match(/\[ ip=(\S+)/)
  out[ORIGIN_CASES[i].name] = ip ? ip[1] : null
}
writeFileSync(new URL('../test/tools/fixtures/origin-spamassassin.json', import.meta.url), JSON.stringify({ spamassassin: version, firstUntrusted: out }, null, 2) + '\n')
console.log(`${Object.keys(out).length} of ${ORIGIN_CASES.length} messages recorded (${version})`)
