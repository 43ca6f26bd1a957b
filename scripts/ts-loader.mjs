// Runs the TypeScript sources straight from disk, for tests and benches:
// `node --import=./scripts/ts-loader.mjs file.ts`. Each file is transpiled
// once (TypeScript's transpileModule, no type check: `npm run typecheck`
// does that) and kept in .cache/ts/ by the hash of its text, so a test
// process pays for the files that changed, not for the whole tree: ts-node
// took ~5 s of every test file's 6-9 s just to load src/ (see docs/HOUSE.md).
import { register } from 'node:module'

register('./ts-loader-hooks.mjs', import.meta.url)
