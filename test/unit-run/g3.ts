// Group 3 of test:unit (see group.ts).
import { runGroup } from './group.js'

await runGroup(2)
