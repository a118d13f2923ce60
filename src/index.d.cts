// Types of the CommonJS entry (index.cjs): the same exports as the ES module's.
export * from './index.js'
