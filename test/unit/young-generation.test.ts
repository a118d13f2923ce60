import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {describe, expect, it} from 'vitest'

import {shouldHoldYoungGeneration} from '../../src/cli/young-generation.js'

const run = promisify(execFile)
const MiB = 1024 * 1024
const built = fileURLToPath(new URL('../../dist/cli/young-generation.js', import.meta.url))

/**
 * A child that churns objects until its young generation is 16 MiB, optionally holds it there, then
 * churns objects that live long enough to make V8 grow it; prints the size before and after in MiB.
 */
const CHILD = `
import v8 from 'node:v8'
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / ${MiB}
const churn = (rounds, keepMax) => { let keep = []; for (let i = 0; i < rounds; i++) { keep.push({i, s: 'x'.repeat(50) + i}); if (keep.length > keepMax) keep = [] } }
for (let r = 0; r < 40 && newSpace() < 16; r++) churn(20_000, 20_000)
const before = newSpace()
const held = process.argv[1] === 'hold' ? (await import(process.argv[2])).holdYoungGeneration() : false
churn(5_000_000, 200_000)
console.log(JSON.stringify({before, held, after: newSpace()}))
`

const child = async (mode: 'hold' | 'control'): Promise<{before: number; held: boolean; after: number}> => {
  const {stdout} = await run(process.execPath, ['--input-type=module', '-e', CHILD, mode, built], {env: {...process.env, NODE_OPTIONS: ''}})
  return JSON.parse(stdout) as {before: number; held: boolean; after: number}
}

describe('holdYoungGeneration', () => {
  it('applies only when the user did not size the young generation and start-up left it at 16 MiB or more', () => {
    expect(shouldHoldYoungGeneration([], undefined, 16 * MiB)).toBe(true)
    expect(shouldHoldYoungGeneration([], '', 32 * MiB)).toBe(true)
    expect(shouldHoldYoungGeneration([], undefined, 8 * MiB)).toBe(false)
    expect(shouldHoldYoungGeneration(['--max-semi-space-size=64'], undefined, 16 * MiB)).toBe(false)
    expect(shouldHoldYoungGeneration([], '--enable-source-maps --semi-space-growth-factor=2', 16 * MiB)).toBe(false)
  })

  it('keeps a 16 MiB young generation from growing, which it otherwise does under the same load', async () => {
    const [control, held] = await Promise.all([child('control'), child('hold')])
    expect(control.before).toBe(16)
    expect(control.after).toBeGreaterThan(16)
    expect(held).toEqual({before: 16, held: true, after: 16})
  }, 30_000)
})
