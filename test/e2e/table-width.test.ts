import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

import {describe, expect, it} from 'vitest'

import {CLI, cleanEnv, PROJECT_ROOT, runCli} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * Issue 15, point 8: `lag` and `inspect` tables fit 80 columns (compact, without a rule between
 * rows, when narrow or piped); `dlq list` at 80 columns keeps the error before the payload stub.
 */

const run = promisify(execFile)
const SGR = /\u001b\[[0-9;]*m/g

/** Run the CLI in a pseudo-terminal (util-linux `script`) of `columns` columns; the lines as shown, colour removed. */
async function inTerminal(args: string[], columns: number): Promise<string[]> {
  const quoted = [process.execPath, CLI, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ')
  const {stdout} = await run('script', ['-qfec', `stty cols ${columns} rows 40; ${quoted}`, '/dev/null'], {cwd: PROJECT_ROOT, env: cleanEnv({TERM: 'xterm-256color'})})
  return stdout.replace(SGR, '').replaceAll('\r', '').trimEnd().split('\n')
}

const widest = (lines: readonly string[]): number => Math.max(...lines.map((line) => [...line].length))

const TOPIC = 'tenant.eu-west-1.orders.processed.v2'
const GROUP = 'billing-reconciliation-worker-pool'
const CONSUMER = 'worker-eu-west-1a-7f9c8d6b5-xk2lq-1234'
/** A dead-letter stream of a topic that was deleted: `lag` shows it as a row of its own. */
const DLQ_TOPIC = 'orders.narrow'

const ctx = usePrivateRedis()

async function seed(): Promise<void> {
  const {redis} = ctx
  if ((await redis.exists(TOPIC)) === 1) return
  for (let n = 0; n < 5; n++) await redis.xadd(TOPIC, '*', 'data', JSON.stringify({orderId: n}))
  for (const group of [GROUP, 'shipping-label-printer-service-group']) {
    await redis.xgroup('CREATE', TOPIC, group, '0')
    await redis.xreadgroup('GROUP', group, CONSUMER, 'COUNT', 2, 'STREAMS', TOPIC, '>')
  }
  for (const [topic, group] of [[TOPIC, GROUP], [DLQ_TOPIC, 'billing']] as const) {
    const data = JSON.stringify({orderId: 99, customer: 'someone@example.com', lines: [1, 2, 3]})
    await redis.xadd(`{${topic}}:dlq`, '*', 'data', data, 'dlq.topic', topic, 'dlq.id', '1-1', 'dlq.group', group, 'dlq.attempts', '5', 'dlq.error-name', 'PermanentError', 'dlq.error-message', 'order 99 has a non-positive total and cannot be charged')
  }
}

describe('tables at 80 columns', () => {
  it('lag on an 80-column terminal: compact, every line within 80, names cut, figures whole', async () => {
    await seed()
    const lines = await inTerminal(['lag', TOPIC, '-u', ctx.server.url], 80)
    expect(widest(lines)).toBeLessThanOrEqual(80)
    expect(lines).toHaveLength(3)
    expect(lines.join('\n')).not.toMatch(/[│─┼]/)
    expect(lines[0]).toMatch(/^TOPIC +GROUP +LENGTH +LAG +PENDING +OLDEST +CONS +DLQ$/)
    expect(lines[1]).toMatch(/^tenant\.eu-west-1\S*… +billing-\S*… +5 +3 +2 +\S+ +\d\/1 +1$/)
  })

  it('lag on a wide terminal keeps the boxed table', async () => {
    await seed()
    const lines = await inTerminal(['lag', TOPIC, '-u', ctx.server.url], 200)
    expect(lines[0]).toMatch(/^┌─/)
    expect(lines.some((line) => line.startsWith(`│ ${TOPIC} │ ${GROUP} `))).toBe(true)
    expect(lines.filter((line) => line.startsWith('├'))).toHaveLength(2)
  })

  it('lag piped with COLUMNS=80: compact and within 80; without COLUMNS nothing is cut', async () => {
    await seed()
    const narrow = await runCli(['lag', TOPIC, '-u', ctx.server.url], {env: {COLUMNS: '80'}})
    expect(widest(narrow.stdout.trimEnd().split('\n'))).toBeLessThanOrEqual(80)
    const whole = await runCli(['lag', TOPIC, '-u', ctx.server.url])
    expect(whole.stdout).toContain(`${TOPIC}  ${GROUP}`)
    expect(whole.stdout).not.toMatch(/[│─┼]/)
  })

  it('inspect on an 80-column terminal: every table within 80 columns, no rule between rows', async () => {
    await seed()
    const lines = await inTerminal(['inspect', TOPIC, '-u', ctx.server.url], 80)
    expect(widest(lines)).toBeLessThanOrEqual(80)
    expect(lines.join('\n')).not.toMatch(/[│─┼]/)
    expect(lines.some((line) => /^billing-reconciliation-worker-pool +\d+-\d+ +3 +2 /.test(line))).toBe(true)
    expect(lines.some((line) => /^shipping-label-printer-\S*… +\d+-\d+ +3 +2 /.test(line))).toBe(true)
  })

  it('dlq list on an 80-column terminal keeps the error before the payload stub', async () => {
    await seed()
    const lines = await inTerminal(['dlq', 'list', DLQ_TOPIC, '-u', ctx.server.url], 80)
    expect(widest(lines)).toBeLessThanOrEqual(80)
    expect(lines[0]).toMatch(/^DLQ ID +GROUP +ATTEMPTS +ERROR +FAILED$/)
    expect(lines[1]).toMatch(/ billing +5 +PermanentError: order 99 has a \S*… +\S+ ago$/)
    // A long group name is cut, not the error.
    const long = await inTerminal(['dlq', 'list', TOPIC, '-u', ctx.server.url], 80)
    expect(widest(long)).toBeLessThanOrEqual(80)
    expect(long[1]).toMatch(/ billing-reconcil\S*… +5 +PermanentError: order/)
  })
})
