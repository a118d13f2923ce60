import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * Issue 15, point 5: text from Redis or from handlers (group, consumer and field names, error
 * messages) never reaches the terminal raw. Each command runs piped, as in a log file or CI: no raw
 * ESC or CR may reach stdout or stderr, a table row stays one line, and --json keeps the exact text.
 */

const TOPIC = 'hostile.t'
const DLQ = `{${TOPIC}}:dlq`
/** Recolours the terminal (SGR) and retitles it (OSC ... BEL). */
const GROUP = '\u001b[31mg\u001b]0;pwned\u0007'
/** CR/LF would split a row or overwrite a line; ESC [2J clears the screen. */
const CONSUMER = 'c\r\nFAKE ROW\u001b[2J'
const ERROR_MESSAGE = 'boom\r\nFAKE ROW \u001b[31mred\u001b]0;pwned\u0007'
const FIELD = 'note\u001b[1m'

const ctx = usePrivateRedis()
let dir: string

const qctl = async (...args: string[]): Promise<CliResult> => runCli([...args, '-u', ctx.server.url], {cwd: dir})

/** Nothing that drives a terminal: no ESC, no CR, no BEL, in stdout or stderr. */
function expectNoRawControls(result: CliResult): void {
  for (const stream of [result.stdout, result.stderr]) {
    expect(stream).not.toContain('\u001b')
    expect(stream).not.toContain('\r')
    expect(stream).not.toContain('\u0007')
  }
}

const linesWith = (text: string, needle: string): string[] => text.split('\n').filter((line) => line.includes(needle))

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-hostile-'))
  const {redis} = ctx
  await redis.xadd(TOPIC, '*', 'data', '{"n":1}', FIELD, 'x')
  await redis.xadd(TOPIC, '*', 'data', '{"n":2}')
  await redis.xgroup('CREATE', TOPIC, GROUP, '0')
  // The consumer holds one pending entry, so it is listed with its name.
  await redis.xreadgroup('GROUP', GROUP, CONSUMER, 'COUNT', 1, 'STREAMS', TOPIC, '>')
  await redis.xadd(DLQ, '*', 'data', '{"n":0}', FIELD, 'y', 'dlq.topic', TOPIC, 'dlq.id', '1-1', 'dlq.group', GROUP, 'dlq.consumer', CONSUMER, 'dlq.attempts', '3', 'dlq.error-name', 'Error', 'dlq.error-message', ERROR_MESSAGE)
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('text from Redis is shown escaped in every human output, exact in --json', () => {
  it('lag: the group name escaped on its one row; --json keeps it', async () => {
    const table = await qctl('lag', TOPIC)
    expect(table.code).toBe(0)
    expectNoRawControls(table)
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2)
    expect(table.stdout).toContain('\\u001b[31mg\\u001b]0;pwned\\u0007')
    const gate = await qctl('lag', TOPIC, '--max-pending', '0')
    expect(gate.code).toBe(8)
    expectNoRawControls(gate)
    expect(gate.stderr).toContain(`Gate failed: ${TOPIC}/\\u001b[31mg\\u001b]0;pwned\\u0007: pending 1 > --max-pending 0`)
    const [row] = jsonOf<Array<{group: string}>>(await qctl('lag', TOPIC, '--json'))
    expect(row?.group).toBe(GROUP)
  })

  it('inspect: group, consumer and error message escaped, each row one line; --json keeps them', async () => {
    const result = await qctl('inspect', TOPIC)
    expect(result.code).toBe(0)
    expectNoRawControls(result)
    expect(result.stdout).toContain('Consumers of \\u001b[31mg\\u001b]0;pwned\\u0007')
    expect(linesWith(result.stdout, 'c\\r\\nFAKE ROW\\u001b[2J')).toHaveLength(2) // the consumers table and the oldest pending entries
    expect(linesWith(result.stdout, 'FAKE ROW').every((line) => line.includes('\\r\\nFAKE ROW'))).toBe(true)
    const json = jsonOf<{groups: Array<{name: string; consumerDetails: Array<{name: string}>}>; deadLetters: {newest: Array<{errorMessage: string}>}}>(
      await qctl('inspect', TOPIC, '--json'),
    )
    expect(json.groups[0]?.name).toBe(GROUP)
    expect(json.groups[0]?.consumerDetails[0]?.name).toBe(CONSUMER)
    expect(json.deadLetters.newest[0]?.errorMessage).toBe(ERROR_MESSAGE)
  })

  it('top --once: the group name escaped on its one row; --json keeps it', async () => {
    const result = await qctl('top', TOPIC, '--once', '--interval', '100ms')
    expect(result.code).toBe(0)
    expectNoRawControls(result)
    expect(linesWith(result.stdout, TOPIC)).toEqual([expect.stringContaining(`${TOPIC}/\\u001b[31mg`)])
    const json = jsonOf<{rows: Array<{group: string}>}>(await qctl('top', TOPIC, '--once', '--interval', '100ms', '--json'))
    expect(json.rows[0]?.group).toBe(GROUP)
  })

  it('dlq list: group and error escaped on the entry\'s one row; --json keeps them', async () => {
    const result = await qctl('dlq', 'list', TOPIC)
    expect(result.code).toBe(0)
    expectNoRawControls(result)
    const rows = linesWith(result.stdout, '\\u001b[31mg')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toContain('Error: boom\\r\\nFAKE ROW \\u001b[31mred')
    const json = jsonOf<{entries: Array<{group: string; errorMessage: string}>}>(await qctl('dlq', 'list', TOPIC, '--json'))
    expect(json.entries[0]).toMatchObject({group: GROUP, errorMessage: ERROR_MESSAGE})
  })

  it('dlq show: group, consumer, error and field names escaped; --json keeps them', async () => {
    const [id] = jsonOf<{entries: Array<{dlqId: string}>}>(await qctl('dlq', 'list', TOPIC, '--json')).entries.map((entry) => entry.dlqId)
    const result = await qctl('dlq', 'show', TOPIC, id as string)
    expect(result.code).toBe(0)
    expectNoRawControls(result)
    expect(result.stdout).toContain('\\u001b[31mg\\u001b]0;pwned\\u0007 (consumer c\\r\\nFAKE ROW\\u001b[2J)')
    // An error keeps its line breaks in dlq show (stacks are multi-line), continued under the value column, CR shown.
    expect(result.stdout).toMatch(/^error +Error: boom\\r\n {15}FAKE ROW \\u001b\[31mred\\u001b\]0;pwned\\u0007$/m)
    expect(result.stdout).toContain('field note\\u001b[1m')
    const json = jsonOf<{group: string; consumer: string; errorMessage: string; fields: Record<string, string>}>(await qctl('dlq', 'show', TOPIC, id as string, '--json'))
    expect(json).toMatchObject({group: GROUP, consumer: CONSUMER, errorMessage: ERROR_MESSAGE})
    expect(json.fields[FIELD]).toBe('y')
  })

  it('work: the start line, retry and dead-letter lines and handler logs escaped, one line each; --json keeps them', async () => {
    const topic = 'hostile.work'
    await ctx.redis.xadd(topic, '*', 'data', '{"n":1}')
    await writeFile(
      join(dir, 'hostile.mjs'),
      `export default async (message, ctx) => {\n  ctx.log(${JSON.stringify(`logged ${ERROR_MESSAGE}`)})\n  throw new Error(${JSON.stringify(ERROR_MESSAGE)})\n}\n`,
    )
    const args = ['work', './hostile.mjs', '--topic', topic, '--group', GROUP, '--consumer', CONSUMER, '--max-attempts', '2', '--backoff', 'fixed', '--backoff-delay', '10ms', '--until-empty']
    const result = await qctl(...args)
    expect(result.code).toBe(0)
    expectNoRawControls(result)
    const output = `${result.stdout}${result.stderr}`
    expect(output).toContain(`as group \\u001b[31mg\\u001b]0;pwned\\u0007 (created), consumer c\\r\\nFAKE ROW\\u001b[2J`)
    expect(linesWith(output, 'FAKE ROW').every((line) => line.includes('\\r\\nFAKE ROW'))).toBe(true)
    expect(linesWith(output, 'retry ')).toEqual([expect.stringMatching(/failed\) in \d+ms: Error: boom\\r\\nFAKE ROW \\u001b\[31mred\\u001b\]0;pwned\\u0007$/)])
    expect(output.split('\n').filter((line) => line.startsWith('dead-lettered '))).toEqual([expect.stringContaining('Error: boom\\r\\nFAKE ROW \\u001b[31mred')])
    expect(output).toContain('logged boom\\r\\nFAKE ROW')

    await ctx.redis.xadd(topic, '*', 'data', '{"n":2}')
    const json = await qctl(...args, '--json')
    expect(json.code).toBe(0)
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as {event: string; group?: string; consumer?: string; error?: unknown})
    expect(events.find((event) => event.event === 'start')).toMatchObject({group: GROUP, consumer: CONSUMER})
    expect(JSON.stringify(events.find((event) => event.event === 'retry'))).toContain(JSON.stringify(ERROR_MESSAGE).slice(1, -1))
  })
})
