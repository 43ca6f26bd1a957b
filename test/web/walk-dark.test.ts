// Every page in dark mode (prefers-color-scheme: dark), Japanese, desktop: screenshots, axe (contrast), no English left (test/web/walk.ts).
import t from 'tap'
import { walk } from './walk.js'

// About twenty pages with screenshots and axe on a shared, loaded machine: more than the usual two minutes.
t.setTimeout(420_000)

t.test('every page, Japanese, desktop, dark', async (t) => {
  await walk(t, 'ja', false, true)
})
