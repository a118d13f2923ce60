import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import type {TopicDescription} from '../../src/core/topics/describe.js'
import {jsonOf, runCli, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {jsonEvents} from '../helpers/json-lines.js'
import {scrapeUntil} from '../helpers/prometheus-text.js'
import {TEST_TARGET, useTestRedis} from '../helpers/test-redis.js'

// Issue 19: `qctl work --metrics-port` over a partitioned topic, on one server and (ON_A_CLUSTER_TOO) on
// a 3-primary Redis Cluster, where the partitions live on different primaries and the worker reads
// them through a connection per node. The counters are the worker's, over all partitions, labelled by
// the topic (never a partition's stream). Ports, paths and reconnects are in metrics.test.ts.

const ctx = useTestRedis()
let dir = ''
let counter = 0
const running: RunningCli[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-metrics-work-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})
afterEach(() => {
  for (const cli of running.splice(0)) cli.child.kill('SIGKILL')
})

describe('qctl work --metrics-port over a partitioned topic', () => {
  it('counts every partition\'s messages under the topic\'s labels: processed, retried, dead-lettered, handler durations', async () => {
    const topic = `mw${++counter}.orders`
    const created = await runCli(['topic', 'create', topic, '--partitions', '3', '--json', '-u', ctx.server.url])
    expect(created.code).toBe(0)
    const partitions = jsonOf<TopicDescription>(created).partitions
    if (TEST_TARGET === 'cluster') expect(new Set(partitions.map((partition) => partition.node)).size).toBe(3)
    // 30 keyed messages over the 3 partitions; n=7 fails once (retried), n=9 is dead-lettered.
    const lines = Array.from({length: 30}, (_, n) => JSON.stringify({n, account: `acct-${n}`})).join('\n')
    const input = join(dir, `orders-${counter}.ndjson`)
    await writeFile(input, `${lines}\n`)
    const published = await runCli(['publish', topic, input, '--ndjson', '--key-field', 'account', '--json', '-u', ctx.server.url])
    expect(published.code).toBe(0)
    const handler = join(dir, `handler-${counter}.mjs`)
    await writeFile(
      handler,
      `export default async (message) => {
  if (message.data.n === 7 && message.attempt === 1) throw new Error('try again')
  if (message.data.n === 9) throw Object.assign(new Error('bad order'), {name: 'PermanentError'})
}
`,
    )
    const worker = startCli(['work', handler, '-t', topic, '-g', 'billing', '--backoff-delay', '10ms', '--metrics-port', '0', '--json', '-u', ctx.server.url], {timeoutMs: 60_000})
    running.push(worker)
    let url: string | undefined
    await waitFor(() => {
      url = jsonEvents(worker.output().stdout).find((line) => line.event === 'metrics')?.['url'] as string | undefined
      return url !== undefined
    }, 20_000, `the metrics event (stderr: ${worker.output().stderr})`)

    const labels = {topic, group: 'billing'}
    const page = await scrapeUntil(
      url as string,
      (got) => got.value('qctl_messages_processed_total', labels) === 29 && got.value('qctl_messages_dead_lettered_total', labels) === 1,
      '29 processed and 1 dead-lettered',
    )
    expect(page.value('qctl_messages_retried_total', labels)).toBe(1)
    expect(page.value('qctl_messages_lost_total', labels)).toBe(0)
    // 31 handler calls: 30 messages, one of them twice.
    expect(page.value('qctl_handler_duration_seconds_count', labels)).toBe(31)
    expect(page.value('qctl_reconnects_total', {...labels, connection: 'reader'})).toBe(0)
    // Only the topic's labels: no sample names a partition's stream.
    for (const family of page.families.values()) {
      for (const sample of family.samples) expect(sample.labels['topic']).toBe(topic)
    }

    worker.child.kill('SIGTERM')
    const result = await worker.done
    expect(result.code).toBe(0)
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 29, retried: 1, deadLettered: 1, lost: 0})
  })
})
