// Group 2 of test:unit (see group.ts).
import { runGroup } from './group.js'

await runGroup(1)
