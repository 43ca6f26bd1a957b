// Writes docs/FIX-ORDER.md from the fix-order declarations.
import { writeFileSync } from 'node:fs'
import { renderFixOrderDoc } from '../src/checks/fix-order-doc.js'

writeFileSync(new URL('../docs/FIX-ORDER.md', import.meta.url), renderFixOrderDoc())
