// Browser plumbing for the page tests: Debian's Chromium driven by
// playwright-core, axe-core injected into a page, screenshots under
// test/screenshots/ (ignored by git; look at them after a run).
import { chromium, type Browser, type Page } from 'playwright-core'
import { readFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export const SCREENSHOTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'screenshots')

/** `args`: more Chromium switches (e.g. --host-resolver-rules for names of loopback origins). */
export async function launch (args: string[] = []): Promise<Browser> {
  return await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...args]
  })
}

/** A full-page screenshot, or of one element (`selector`) when the page is long. */
export async function screenshot (page: Page, name: string, selector?: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const file = path.join(SCREENSHOTS, `${name}.png`)
  if (selector) await page.locator(selector).screenshot({ path: file })
  else await page.screenshot({ path: file, fullPage: true })
  return file
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation { id: string, impact: string | null, help: string, nodes: Array<{ target: string[], html: string }> }

/** Serious and critical WCAG A/AA violations on the page (axe-core, injected as a script tag is blocked by CSP, so evaluated). */
export async function axeSerious (page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource)
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, html: n.html })) }))
  })
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}
