import {afterEach, describe, expect, it} from 'vitest'

import {deadLetterKey} from '../../src/core/keys.js'
import {runCli, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {jsonEvents} from '../helpers/json-lines.js'
import {scrape, scrapeUntil} from '../helpers/prometheus-text.js'
import {useTestRedis} from '../helpers/test-redis.js'

// Issue 19: `qctl metrics` scraped with node's fetch and read with a strict parser of the text format,
// on one server and (ON_A_CLUSTER_TOO) on a Redis Cluster, where each scrape reads every primary.
// Its ports, refusals and qctl_up 0 are in metrics.test.ts.

const ctx = useTestRedis()
let counter = 0
const running: RunningCli[] = []
const unique = (name: string): string => `${name}-${++counter}`

afterEach(() => {
  for (const cli of running.splice(0)) cli.child.kill('SIGKILL')
})

function start(args: string[]): RunningCli {
  const cli = startCli(args, {timeoutMs: 60_000})
  running.push(cli)
  return cli
}

async function urlOf(cli: RunningCli): Promise<string> {
  let url: string | undefined
  await waitFor(() => {
    url = jsonEvents(cli.output().stdout).find((line) => line.event === 'listening')?.['url'] as string | undefined
    return url !== undefined
  }, 20_000, `the listening event (stderr: ${cli.output().stderr})`)
  return url as string
}

const refused = async (url: string): Promise<boolean> => fetch(url).then(() => false, () => true)

describe('qctl metrics', () => {
  it('exports length, lag, pending, oldest pending age, dead letters, consumers and scheduled messages per topic and group, read at each scrape', async () => {
    const topic = unique('queue')
    const other = unique('not-asked')
    for (let n = 0; n < 6; n++) await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({n}))
    await ctx.redis.xadd(other, '*', 'data', '{}')
    await ctx.redis.xgroup('CREATE', topic, 'billing', '0')
    // Two delivered and not acknowledged: pending 2, lag 4.
    await ctx.redis.xreadgroup('GROUP', 'billing', 'worker-1', 'COUNT', 2, 'STREAMS', topic, '>')
    // A group name that needs escaping in the text format.
    const hostile = 'audit "eu"\\1'
    await ctx.redis.xgroup('CREATE', topic, hostile, '$')
    await ctx.redis.xadd(deadLetterKey(topic), '*', 'data', '{}')
    const scheduled = await runCli(['publish', topic, '--data', '{"later":true}', '--delay', '1h', '-u', ctx.server.url])
    expect(scheduled.code).toBe(0)

    const exporter = start(['metrics', topic, '--port', '0', '--json', '-u', ctx.server.url])
    const url = await urlOf(exporter)
    const page = await scrape(url)
    expect(page.value('qctl_up')).toBe(1)
    expect(page.value('qctl_stream_length', {topic})).toBe(6)
    expect(page.value('qctl_stream_entries_added_total', {topic})).toBe(6)
    expect(page.value('qctl_stream_groups', {topic})).toBe(2)
    expect(page.value('qctl_stream_partitions', {topic})).toBe(1)
    expect(page.value('qctl_dlq_length', {topic})).toBe(1)
    expect(page.value('qctl_scheduled_messages', {topic})).toBe(1)
    expect(page.value('qctl_scheduled_messages_due', {topic})).toBe(0)
    const billing = {topic, group: 'billing'}
    expect(page.value('qctl_stream_group_lag', billing)).toBe(4)
    expect(page.value('qctl_stream_group_messages_pending', billing)).toBe(2)
    expect(page.value('qctl_stream_group_entries_read', billing)).toBe(2)
    expect(page.value('qctl_stream_group_consumers', billing)).toBe(1)
    expect(page.value('qctl_stream_group_active_consumers', billing)).toBe(1)
    expect(page.value('qctl_stream_group_oldest_pending_age_seconds', billing)).toBeGreaterThanOrEqual(0)
    expect(page.value('qctl_stream_group_lag', {topic, group: hostile})).toBe(0)
    expect(page.value('qctl_stream_group_messages_pending', {topic, group: hostile})).toBe(0)
    expect(page.value('qctl_stream_group_oldest_pending_age_seconds', {topic, group: hostile})).toBe(0)
    // Only the topic asked for.
    expect(page.value('qctl_stream_length', {topic: other})).toBeUndefined()

    // Read at scrape time: what changed since shows in the next scrape.
    await ctx.redis.xadd(topic, '*', 'data', '{}')
    const ids = ((await ctx.redis.xpending(topic, 'billing', '-', '+', 10)) as Array<[string]>).map(([id]) => id)
    await ctx.redis.xack(topic, 'billing', ...ids)
    const next = await scrape(url)
    expect(next.value('qctl_stream_length', {topic})).toBe(7)
    expect(next.value('qctl_stream_group_lag', billing)).toBe(5)
    expect(next.value('qctl_stream_group_messages_pending', billing)).toBe(0)

    exporter.child.kill('SIGINT')
    const result = await exporter.done
    expect(result.code).toBe(0)
    expect(jsonEvents(result.stdout).at(-1)).toEqual({event: 'stopped', url, scrapes: 2, failedScrapes: 0})
    expect(await refused(url)).toBe(true)
  })

  it('finds topics made after it started (no TOPIC), as top does', async () => {
    const prefix = unique('found')
    await ctx.redis.xadd(`${prefix}.a`, '*', 'data', '{}')
    const exporter = start(['metrics', '--match', `${prefix}.*`, '--port', '0', '--json', '-u', ctx.server.url])
    const url = await urlOf(exporter)
    expect((await scrape(url)).value('qctl_stream_length', {topic: `${prefix}.a`})).toBe(1)
    await ctx.redis.xadd(`${prefix}.b`, '*', 'data', '{}')
    await ctx.redis.xadd(`${prefix}.b`, '*', 'data', '{}')
    const page = await scrapeUntil(url, (got) => got.value('qctl_stream_length', {topic: `${prefix}.b`}) !== undefined, 'the new topic in a scrape')
    expect(page.value('qctl_stream_length', {topic: `${prefix}.b`})).toBe(2)
  })

})
