// The Report model moved to src/core/report.ts (a core module that store/,
// the protocol clients and plugins import without reaching into checks/).
// This re-export keeps `../checks/report.js` imports working.
export * from '../core/report.js'
