// Every page in English on a desktop (1280 px): screenshots, overflow, axe (test/web/walk.ts).
import t from 'tap'
import { walk } from './walk.js'

// About twenty pages with screenshots and axe on a shared, loaded machine: more than the usual two minutes.
t.setTimeout(420_000)

t.test('every page, English, desktop', async (t) => {
  await walk(t, 'en', false)
})
