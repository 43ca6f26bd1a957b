// `npm run test:unit` runs the pure-logic and inject() test files in a few
// processes (test/unit-run/g*.ts) instead of one process each: tap pays
// ~1.5 s of CPU to start a test process and the app's modules (fastify,
// schemas, src/) another ~2.5 s to load, which was more than half of the
// edit-test loop. `npm test` still runs every file in its own process.
//
// Every test/**/*.test.ts joins a group unless it is listed below, so a new
// test file is in test:unit without touching anything.
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Left out of test:unit: real servers, Chromium, floods, timing (run by `npm test`). */
const SLOW = [
  /^contract\//,
  /-(browser|postfix|interop|exim|opensmtpd)\.test\.ts$/,
  /^web\/walk-.*\.test\.ts$/,
  /^checks\/receive-rtt\.test\.ts$/,
  /^checks\/relay-roundtrips\.test\.ts$/,
  /^tools\/pool\.test\.ts$/,
  /^checks\/pop3\.test\.ts$/,
  /^ops\/topology\.test\.ts$/,
  /^ops\/redis-cluster\.test\.ts$/,
  /^ops\/shutdown\.test\.ts$/
]

/**
 * In test:unit, but each in its own process (package.json names them after
 * the groups): root-level t.before() hooks, or a root timeout of their own.
 */
export const OWN_PROCESS = [
  'api/all-check.test.ts',
  'checks/receive.test.ts',
  'checks/smtp.test.ts',
  'inbound/multi-instance.test.ts',
  'ops/hardening.test.ts'
]

export const GROUPS = 4

/** The test files of group k (0-based): greedy by size, so the groups take about as long. */
export function groupFiles (k: number): string[] {
  const files = (readdirSync(testDir, { recursive: true }) as string[])
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f.endsWith('.test.ts') && !SLOW.some((re) => re.test(f)) && !OWN_PROCESS.includes(f))
    .map((f) => ({ f, size: statSync(join(testDir, f)).size }))
    .sort((a, b) => b.size - a.size || (a.f < b.f ? -1 : 1))
  const load = new Array<number>(GROUPS).fill(0)
  const out: string[][] = load.map(() => [])
  for (const { f, size } of files) {
    const g = load.indexOf(Math.min(...load))
    load[g] += size
    out[g].push(f)
  }
  return out[k]
}

/** Imports group k's files in order: their top-level tests run one after another in this process. */
export async function runGroup (k: number): Promise<void> {
  for (const f of groupFiles(k)) await import(pathToFileURL(join(testDir, f)).href)
}
