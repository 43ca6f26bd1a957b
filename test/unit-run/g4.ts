// Group 4 of test:unit (see group.ts).
import { runGroup } from './group.js'

await runGroup(3)
