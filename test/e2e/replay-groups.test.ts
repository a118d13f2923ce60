// `qctl dlq replay` re-delivers only to the groups that dead-lettered each message (issue 15,
// point 3): through the group's replay stream {T}:replay:G, which that group's workers read beside the
// topic. Real workers, real Redis; the handler (test/fixtures/work/replay-recorder.mjs) logs every call
// with the group it runs for and what the message says of itself (id, originalId, topic).
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import type {LagRow} from '../../src/core/lag/lag.js'
import type {ReplayResult} from '../../src/core/dlq/replay.js'
import {deadLetterKey, replayKey} from '../../src/core/keys.js'
import type {WorkerSummary} from '../../src/core/worker/worker.js'
import {jsonOf, PROJECT_ROOT, runCli, startCli, waitFor, type CliResult, type RunningCli} from '../helpers/cli.js'
import {readJsonLines} from '../helpers/json-lines.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

const HANDLER = join(PROJECT_ROOT, 'test', 'fixtures', 'work', 'replay-recorder.mjs')

interface Call {
  group: string
  pid: number
  id: string
  originalId: string
  topic: string
  attempt: number
  data: {n: number}
  phase: 'start' | 'done'
}

const context = usePrivateRedis()
let dir: string
let counter = 0
const started: RunningCli[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-replay-groups-'))
})

afterEach(async () => {
  for (const cli of started.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
    await cli.done
  }
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

const unique = (name: string): string => `replay.${name}-${++counter}`
const url = (): string => context.server.url
const logFile = (topic: string): string => join(dir, `${topic}.jsonl`)
const calls = (topic: string): Call[] => readJsonLines<Call>(logFile(topic))
const done = (topic: string, group: string): Call[] => calls(topic).filter((call) => call.group === group && call.phase === 'done')

const workerEnv = (topic: string, group: string, extra: Record<string, string> = {}): Record<string, string> => ({QCTL_TEST_LOG: logFile(topic), QCTL_TEST_GROUP: group, ...extra})

/** A worker of `group` that drains what it can reach and exits; its --json summary. */
async function drain(topic: string, group: string, env: Record<string, string> = {}, args: string[] = []): Promise<WorkerSummary> {
  const result = await runCli(['work', HANDLER, '-t', topic, '-g', group, '--until-empty', '--json', '--backoff-delay', '50ms', ...args, '-u', url()], {env: workerEnv(topic, group, env)})
  if (result.code !== 0) throw new Error(`worker exited ${result.code}:\n${result.stdout}\n${result.stderr}`)
  const summary = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as {event: string})
    .find((event) => event.event === 'summary')
  return summary as unknown as WorkerSummary
}

async function publish(topic: string, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let n = 0; n < count; n++) ids.push((await context.redis.xadd(topic, '*', 'data', JSON.stringify({n}))) as string)
  return ids
}

const replay = async (...args: string[]): Promise<CliResult> => runCli(['dlq', 'replay', ...args, '-u', url()])

async function lagRows(topic: string): Promise<LagRow[]> {
  return jsonOf<LagRow[]>(await runCli(['lag', topic, '--json', '-u', url()]))
}

/** DLQ entries as [dlq.id, dlq.topic, dlq.group]. */
async function deadLetters(topic: string): Promise<Array<{id: string; topic: string; group: string}>> {
  const rows = (await context.redis.xrange(deadLetterKey(topic), '-', '+')) as Array<[string, string[]]>
  return rows.map(([, pairs]) => {
    const fields = new Map<string, string>()
    for (let i = 0; i + 1 < pairs.length; i += 2) fields.set(pairs[i] as string, pairs[i + 1] as string)
    return {id: fields.get('dlq.id') ?? '', topic: fields.get('dlq.topic') ?? '', group: fields.get('dlq.group') ?? ''}
  })
}

describe('dlq replay --group: only the group that failed handles the message again', () => {
  it('billing failed, shipping succeeded: billing sees it again with originalId, shipping never, and its lag stays 0', async () => {
    const topic = unique('two-groups')
    const ids = await publish(topic, 3)
    expect((await drain(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})).deadLettered).toBe(3)
    expect((await drain(topic, 'shipping')).processed).toBe(3)

    const result = await replay(topic, '--group', 'billing', '--yes', '--json')
    expect(result.code).toBe(0)
    expect(jsonOf<ReplayResult>(result)).toMatchObject({replayed: 3, remaining: 0, toTopic: false, targets: [{group: 'billing', key: replayKey(topic, 'billing'), entries: 3}]})
    // The topic itself is untouched: no new entry for every group to handle.
    expect(await context.redis.xlen(topic)).toBe(3)

    // Waiting replayed entries are billing's lag, never invisible to a gate; shipping has nothing to do.
    const before = await lagRows(topic)
    expect(before.find((row) => row.group === 'billing')).toMatchObject({lag: 3, replayed: 3})
    expect(before.find((row) => row.group === 'shipping')).toMatchObject({lag: 0, pending: 0, replayed: 0})
    const gate = await runCli(['lag', topic, '--group', 'billing', '--max-lag', '0', '-u', url()])
    expect(gate.code).toBe(8)

    expect((await drain(topic, 'billing')).processed).toBe(3)
    expect((await drain(topic, 'shipping')).processed).toBe(0)
    const again = done(topic, 'billing')
    expect(again.map((call) => call.originalId)).toEqual(ids)
    expect(again.map((call) => call.topic)).toEqual([topic, topic, topic])
    for (const call of again) expect(call.id).not.toBe(call.originalId)
    expect(done(topic, 'shipping').map((call) => call.id)).toEqual(ids)
    for (const row of await lagRows(topic)) expect(row).toMatchObject({lag: 0, pending: 0, replayed: 0})
    // Handled, so deleted: the replay stream holds only billing's backlog.
    expect(await context.redis.xlen(replayKey(topic, 'billing'))).toBe(0)
  })

  it('a replay stream keeps only what its group has not handled: a group recreated on it gets nothing again', async () => {
    const topic = unique('recreated')
    await publish(topic, 3)
    await drain(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})
    await replay(topic, '--yes')
    expect(await context.redis.xlen(replayKey(topic, 'billing'))).toBe(3)
    expect((await drain(topic, 'billing')).processed).toBe(3)
    expect(await context.redis.xlen(replayKey(topic, 'billing'))).toBe(0)
    // An operator destroys the group on the replay stream; the next worker creates it again at ID 0.
    await context.redis.xgroup('DESTROY', replayKey(topic, 'billing'), 'billing')
    expect((await drain(topic, 'billing')).processed).toBe(0)
    expect(done(topic, 'billing')).toHaveLength(3)
  })

  it('a replayed message that fails again is dead-lettered again for its topic, with its original ID; replayed again, it keeps it', async () => {
    const topic = unique('fails-again')
    const [id] = await publish(topic, 1)
    await drain(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})
    await replay(topic, '--yes')
    expect((await drain(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})).deadLettered).toBe(1)
    expect(await deadLetters(topic)).toEqual([{id, topic, group: 'billing'}])
    // Dead-lettered from the replay stream: gone from it (its copy is in the DLQ).
    expect(await context.redis.xlen(replayKey(topic, 'billing'))).toBe(0)

    await replay(topic, '--yes')
    // A retry (transient failure) on the replay stream is parked and taken back like any other.
    const summary = await drain(topic, 'billing', {QCTL_TEST_FAIL: 'transient-once'})
    expect(summary).toMatchObject({processed: 1, retried: 1, deadLettered: 0})
    expect(done(topic, 'billing').map((call) => call.originalId)).toEqual([id])
    expect(await deadLetters(topic)).toEqual([])
    expect(await context.redis.xlen(replayKey(topic, 'billing'))).toBe(0)
  })
})

describe('what work says when a replayed message is dead-lettered again', () => {
  it('names its topic entry ID (the one dlq show finds), and the replay stream ID beside it', async () => {
    const topic = unique('named-again')
    const [id = ''] = await publish(topic, 1)
    await drain(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})
    await replay(topic, '--yes')
    const args = ['work', HANDLER, '-t', topic, '-g', 'billing', '--until-empty', '-u', url()]
    const human = await runCli(args, {env: workerEnv(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})})
    expect(human.code, human.stderr).toBe(0)
    const line = `${human.stdout}${human.stderr}`.split('\n').find((text) => text.startsWith('dead-lettered ')) ?? ''
    expect(line).toMatch(new RegExp(`^dead-lettered ${id} \\(replayed as \\d+-\\d+\\) after 1 attempt as \\d+-\\d+: `))
    const shown = await runCli(['dlq', 'show', topic, id, '-u', url()])
    expect(shown.code, shown.stderr).toBe(0)

    await replay(topic, '--yes')
    const json = await runCli([...args, '--json'], {env: workerEnv(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})})
    const event = json.stdout.split('\n').filter((text) => text.startsWith('{')).map((text) => JSON.parse(text) as {event: string; id: string; originId: string}).find((parsed) => parsed.event === 'deadLetter')
    expect(event?.originId).toBe(id)
    expect(event?.id).not.toBe(id)
  })
})

describe('dlq replay of a whole topic: each entry goes to the group that failed it', () => {
  it('two failing groups get their own entries back, a third that succeeded gets nothing; --dry-run says so first', async () => {
    const topic = unique('whole-topic')
    const ids = await publish(topic, 2)
    await drain(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})
    await drain(topic, 'shipping', {QCTL_TEST_FAIL: 'permanent'})
    await drain(topic, 'audit')

    const dry = jsonOf<ReplayResult>(await replay(topic, '--dry-run', '--json'))
    expect(dry).toMatchObject({dryRun: true, selected: 4, withoutGroup: 0})
    expect(dry.targets).toEqual([
      {group: 'billing', key: replayKey(topic, 'billing'), entries: 2, partition: null},
      {group: 'shipping', key: replayKey(topic, 'shipping'), entries: 2, partition: null},
    ])
    const human = await replay(topic, '--dry-run')
    expect(human.stdout).toContain(`2 entries would go to group billing only, through its replay stream ${replayKey(topic, 'billing')}`)
    expect(human.stdout).toContain(`2 entries would go to group shipping only, through its replay stream ${replayKey(topic, 'shipping')}`)
    expect(await context.redis.xlen(deadLetterKey(topic))).toBe(4)

    expect(jsonOf<ReplayResult>(await replay(topic, '--yes', '--json'))).toMatchObject({replayed: 4, remaining: 0})
    expect((await drain(topic, 'billing')).processed).toBe(2)
    expect((await drain(topic, 'shipping')).processed).toBe(2)
    expect((await drain(topic, 'audit')).processed).toBe(0)
    expect(done(topic, 'billing').map((call) => call.originalId)).toEqual(ids)
    expect(done(topic, 'shipping').map((call) => call.originalId)).toEqual(ids)
    expect(done(topic, 'audit').map((call) => call.id)).toEqual(ids)
  })

  it('entries that record no group stay in the dead-letter stream (said, with --to-topic as the way); --to-topic appends them to the topic', async () => {
    const topic = unique('no-group')
    await context.redis.xadd(deadLetterKey(topic), '*', 'data', '{"n":0}', 'dlq.topic', topic, 'dlq.id', '1-1')
    const result = await replay(topic, '--yes', '--json')
    expect(jsonOf<ReplayResult>(result)).toMatchObject({selected: 1, replayed: 0, withoutGroup: 1, remaining: 1})
    expect((await replay(topic, '--yes')).stdout).toContain('1 entry records no group (written by another program): stayed in the dead-letter stream; replay them with --to-topic')
    const toTopic = jsonOf<ReplayResult>(await replay(topic, '--yes', '--to-topic', '--json'))
    expect(toTopic).toMatchObject({replayed: 1, toTopic: true, targets: [{group: null, key: topic, entries: 1}]})
    const [[, pairs]] = (await context.redis.xrange(topic, '-', '+')) as [[string, string[]]]
    expect(JSON.parse(pairs[3] as string)).toMatchObject({'qctl-original-id': '1-1'})
  })
})

describe('dlq replay and workers killed mid-way', () => {
  it('a replay SIGKILLed halfway and run again: every entry exactly once, in its group\'s replay stream or in the DLQ', async () => {
    const topic = unique('replay-kill')
    const total = 6000
    for (let start = 0; start < total; start += 1000) {
      const pipeline = context.redis.pipeline()
      for (let n = start; n < start + 1000; n++) {
        pipeline.xadd(deadLetterKey(topic), '*', 'data', JSON.stringify({n}), 'dlq.topic', topic, 'dlq.id', `1-${n}`, 'dlq.group', n % 2 === 0 ? 'billing' : 'shipping')
      }
      await pipeline.exec()
    }
    const moved = async (): Promise<number> => (await context.redis.xlen(replayKey(topic, 'billing')).catch(() => 0)) + (await context.redis.xlen(replayKey(topic, 'shipping')).catch(() => 0))
    const running = startCli(['dlq', 'replay', topic, '--yes', '--rate', '3000', '-u', url()])
    started.push(running)
    await waitFor(async () => (await moved()) >= 1500, 20_000, '1,500 entries replayed')
    running.child.kill('SIGKILL')
    await running.done

    const numbers = async (key: string): Promise<number[]> =>
      ((await context.redis.xrange(key, '-', '+')) as Array<[string, string[]]>).map(([, pairs]) => (JSON.parse(pairs[1] as string) as {n: number}).n)
    const billing = await numbers(replayKey(topic, 'billing'))
    const shipping = await numbers(replayKey(topic, 'shipping'))
    const left = await numbers(deadLetterKey(topic))
    expect(billing.length + shipping.length).toBeLessThan(total)
    expect([...billing, ...shipping, ...left].sort((a, b) => a - b)).toEqual(Array.from({length: total}, (_, n) => n))
    expect(billing.every((n) => n % 2 === 0) && shipping.every((n) => n % 2 === 1)).toBe(true)

    const rerun = await replay(topic, '--yes', '--json')
    expect(jsonOf<ReplayResult>(rerun)).toMatchObject({replayed: left.length, skipped: 0, remaining: 0})
    expect(await numbers(replayKey(topic, 'billing'))).toEqual(Array.from({length: total / 2}, (_, n) => 2 * n))
    expect(await numbers(replayKey(topic, 'shipping'))).toEqual(Array.from({length: total / 2}, (_, n) => 2 * n + 1))
    expect(await context.redis.exists(topic)).toBe(0)
  })

  it('a worker SIGKILLed with replayed entries in flight: another worker of the group takes them over', async () => {
    const topic = unique('worker-kill')
    const ids = await publish(topic, 6)
    await drain(topic, 'billing', {QCTL_TEST_FAIL: 'permanent'})
    await replay(topic, '--yes')
    const first = startCli(['work', HANDLER, '-t', topic, '-g', 'billing', '--consumer', 'doomed', '-c', '3', '--visibility-timeout', '1s', '-u', url()], {
      env: workerEnv(topic, 'billing', {QCTL_TEST_SLEEP_MS: '60000'}),
    })
    started.push(first)
    await waitFor(() => calls(topic).filter((call) => call.phase === 'start' && call.pid === first.child.pid).length === 3, 20_000, 'three replayed entries started')
    first.child.kill('SIGKILL')
    await first.done
    const pending = (await context.redis.xpending(replayKey(topic, 'billing'), 'billing')) as [number]
    expect(Number(pending[0])).toBeGreaterThanOrEqual(3)

    const summary = await drain(topic, 'billing', {}, ['--consumer', 'survivor', '--visibility-timeout', '1s'])
    expect(summary.processed).toBe(6)
    expect(done(topic, 'billing').map((call) => call.originalId).sort()).toEqual([...ids].sort())
    const after = (await context.redis.xpending(replayKey(topic, 'billing'), 'billing')) as [number]
    expect(Number(after[0])).toBe(0)
  })
})
