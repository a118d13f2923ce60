import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {runCli, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {jsonEvents} from '../helpers/json-lines.js'
import {scrape, scrapeUntil} from '../helpers/prometheus-text.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'

// Issue 19, metrics: `qctl work --metrics-port` and `qctl metrics --port` scraped with a real HTTP
// client (node's fetch) and read with a strict parser of the text format (test/helpers/prometheus-text.ts).

const ctx = usePrivateRedis()
let dir = ''
let counter = 0
const running: RunningCli[] = []
const unique = (name: string): string => `${name}-${++counter}`

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-metrics-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})
afterEach(() => {
  for (const cli of running.splice(0)) cli.child.kill('SIGKILL')
})

function start(args: string[]): RunningCli {
  const cli = startCli(args, {timeoutMs: 60_000})
  running.push(cli)
  return cli
}

/** The address a process printed (`--json`: the event named `event`). */
async function urlOf(cli: RunningCli, event: string): Promise<string> {
  let url: string | undefined
  await waitFor(() => {
    url = jsonEvents(cli.output().stdout).find((line) => line.event === event)?.['url'] as string | undefined
    return url !== undefined
  }, 20_000, `the ${event} event (stderr: ${cli.output().stderr})`)
  return url as string
}

async function handler(source: string): Promise<string> {
  const file = join(dir, `handler-${++counter}.mjs`)
  await writeFile(file, source)
  return file
}

/** A port something else listens on. */
async function takenPort(): Promise<{port: number; server: Server}> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {port: address.port, server}
}

const refused = async (url: string): Promise<boolean> => fetch(url).then(() => false, () => true)

describe('qctl work --metrics-port', () => {
  it('serves the run\'s counts (a retried and a dead-lettered message among them), handler durations and acknowledgements, labelled by topic and group, until it stops', async () => {
    const topic = unique('orders')
    for (let n = 1; n <= 5; n++) await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({n}))
    // 4 fails once (retried), 5 is dead-lettered: 4 processed, 6 handler calls.
    const file = await handler(`export default async (message) => {
  if (message.data.n === 4 && message.attempt === 1) throw new Error('try again')
  if (message.data.n === 5) throw Object.assign(new Error('bad order'), {name: 'PermanentError'})
}
`)
    const before = Date.now() / 1000
    const worker = start(['work', file, '-t', topic, '-g', 'billing', '--backoff-delay', '10ms', '--metrics-port', '0', '--json', '-u', ctx.server.url])
    const url = await urlOf(worker, 'metrics')
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const labels = {topic, group: 'billing'}
    const page = await scrapeUntil(
      url,
      (got) => got.value('qctl_messages_processed_total', labels) === 4 && got.value('qctl_messages_dead_lettered_total', labels) === 1 && got.value('qctl_last_ack_timestamp_seconds', labels) !== undefined,
      '4 processed, 1 dead-lettered and an acknowledgement',
    )
    expect(page.value('qctl_messages_retried_total', labels)).toBe(1)
    expect(page.value('qctl_messages_lost_total', labels)).toBe(0)
    expect(page.value('qctl_messages_duplicate_total', labels)).toBe(0)
    expect(page.value('qctl_handler_duration_seconds_count', labels)).toBe(6)
    expect(page.value('qctl_handler_duration_seconds_bucket', {...labels, le: '+Inf'})).toBe(6)
    expect(page.value('qctl_handler_duration_seconds_sum', labels)).toBeGreaterThanOrEqual(0)
    expect(page.value('qctl_messages_in_flight', labels)).toBe(0)
    expect(page.value('qctl_read_ahead_messages', labels)).toBe(0)
    expect(page.value('qctl_ack_batches_total', labels)).toBeGreaterThanOrEqual(1)
    const lastAck = page.value('qctl_last_ack_timestamp_seconds', labels) as number
    expect(lastAck).toBeGreaterThanOrEqual(Math.floor(before))
    expect(lastAck).toBeLessThanOrEqual(Date.now() / 1000)
    expect(page.samples('qctl_reconnects_total', labels).map((sample) => [sample.labels['connection'], sample.value])).toEqual([['reader', 0], ['commands', 0]])
    for (const [name, type] of [['qctl_messages_processed_total', 'counter'], ['qctl_handler_duration_seconds', 'histogram'], ['qctl_messages_in_flight', 'gauge'], ['qctl_last_ack_timestamp_seconds', 'gauge']]) {
      expect(page.families.get(name as string)?.type).toBe(type)
    }

    worker.child.kill('SIGTERM')
    const result = await worker.done
    expect(result.code).toBe(0)
    // The same figures as the run's summary.
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 4, retried: 1, deadLettered: 1, lost: 0, duplicates: 0})
    // The server closed with the worker.
    expect(await refused(url)).toBe(true)
  })

  it('answers 404 off /metrics and 405 to a POST', async () => {
    const topic = unique('paths')
    const file = await handler('export default async () => {}\n')
    const worker = start(['work', file, '-t', topic, '-g', 'billing', '--metrics-port', '0', '--json', '-u', ctx.server.url])
    const url = await urlOf(worker, 'metrics')
    const other = await fetch(url.replace(/\/metrics$/, '/'))
    expect(other.status).toBe(404)
    expect(await other.text()).toMatch(/^not found/)
    expect((await fetch(`${url}x`)).status).toBe(404)
    const post = await fetch(url, {method: 'POST'})
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    // A query string is ignored (some scrapers add one).
    expect((await fetch(`${url}?x=1`)).status).toBe(200)
  })

  it('refuses a port in use with one line and exit 2, before reading anything', async () => {
    const topic = unique('busy')
    await ctx.redis.xadd(topic, '*', 'data', '{}')
    const file = await handler('export default async () => {}\n')
    const {port, server} = await takenPort()
    try {
      const result = await runCli(['work', file, '-t', topic, '-g', 'billing', '--metrics-port', String(port), '-u', ctx.server.url])
      expect(result.code).toBe(2)
      expect(result.stderr.trim().split('\n')).toEqual([`Error: cannot serve metrics on 127.0.0.1:${port}: the port is in use (choose another with --metrics-port)`])
      expect(result.stdout).toBe('')
      // Nothing was read: not even the group was made.
      expect(await ctx.redis.xinfo('GROUPS', topic)).toEqual([])
    } finally {
      server.close()
    }
  })

  it('refuses --metrics-host without --metrics-port (exit 2)', async () => {
    const file = await handler('export default async () => {}\n')
    const result = await runCli(['work', file, '-t', unique('host'), '--metrics-host', '0.0.0.0', '-u', ctx.server.url])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--metrics-host needs --metrics-port')
  })

  describe('through a proxy that drops the connections', () => {
    let proxy: TcpProxy
    beforeAll(async () => {
      proxy = await startTcpProxy({port: ctx.server.port})
    })
    afterAll(async () => {
      await proxy.close()
    })

    it('counts each connection lost and reconnected in qctl_reconnects_total, by connection', async () => {
      const topic = unique('reconnect')
      const file = await handler('export default async () => {}\n')
      const worker = start(['work', file, '-t', topic, '-g', 'billing', '--metrics-port', '0', '--json', '-u', proxy.url])
      const url = await urlOf(worker, 'metrics')
      await waitFor(() => jsonEvents(worker.output().stdout).some((event) => event.event === 'start'), 20_000, 'the worker to start')
      const labels = {topic, group: 'billing'}
      expect((await scrape(url)).value('qctl_reconnects_total', {...labels, connection: 'reader'})).toBe(0)
      // Cut while the reader waits in a blocking read, whose reply the cut loses.
      await waitFor(async () => ((await ctx.redis.client('LIST')) as string).split('\n').some((line) => line.includes(' name=qctl:work:reader ') && / flags=\S*b/.test(line)), 10_000, 'the reader to block')
      proxy.cut()
      const page = await scrapeUntil(
        url,
        (got) => (got.value('qctl_reconnects_total', {...labels, connection: 'reader'}) ?? 0) >= 1 && (got.value('qctl_reconnects_total', {...labels, connection: 'commands'}) ?? 0) >= 1,
        'both connections counted as reconnecting',
      )
      expect(page.value('qctl_reconnects_total', {...labels, connection: 'reader'})).toBe(1)
      expect(page.value('qctl_reconnects_total', {...labels, connection: 'commands'})).toBe(1)
      // And it works on: a message published now is processed.
      await ctx.redis.xadd(topic, '*', 'data', '{}')
      await scrapeUntil(url, (got) => got.value('qctl_messages_processed_total', labels) === 1, 'the message after the reconnect processed')
      // The read the cut connection had sent failed at once; it did not wait for the watchdog to give up on it.
      const warnings = jsonEvents(worker.output().stdout).filter((event) => event.event === 'warning').map((event) => String(event['message']))
      expect(warnings.filter((message) => message.includes('did not return within'))).toEqual([])
    })
  })
})

describe('qctl metrics', () => {
  it('exits 6 for a named topic that does not exist, 2 for a port in use, before serving', async () => {
    const missing = await runCli(['metrics', unique('nowhere'), '--port', '0', '-u', ctx.server.url])
    expect(missing.code).toBe(6)
    const topic = unique('port')
    await ctx.redis.xadd(topic, '*', 'data', '{}')
    const {port, server} = await takenPort()
    try {
      const busy = await runCli(['metrics', topic, '--port', String(port), '-u', ctx.server.url])
      expect(busy.code).toBe(2)
      expect(busy.stderr.trim().split('\n')).toEqual([`Error: cannot serve metrics on 127.0.0.1:${port}: the port is in use (choose another with --port)`])
    } finally {
      server.close()
    }
    const both = await runCli(['metrics', topic, '--match', 'x*', '--port', '0', '-u', ctx.server.url])
    expect(both.code).toBe(2)
  })

  it('answers qctl_up 0 and no queue figures while Redis cannot be read, says why once, and qctl_up 1 once it can', async () => {
    const topic = unique('down')
    await ctx.redis.xadd(topic, '*', 'data', '{}')
    const proxy = await startTcpProxy({port: ctx.server.port})
    const exporter = start(['metrics', topic, '--port', '0', '--json', '--command-timeout', '1s', '-u', proxy.url])
    const url = await urlOf(exporter, 'listening')
    expect((await scrape(url)).value('qctl_up')).toBe(1)
    // Held, not closed: the exporter's reading gets no reply within --command-timeout (a silent Redis).
    proxy.pause()
    const down = await scrapeUntil(url, (got) => got.value('qctl_up') === 0, 'qctl_up 0')
    expect(down.value('qctl_stream_length', {topic})).toBeUndefined()
    expect(down.families.has('qctl_stream_length')).toBe(false)
    expect((await scrape(url)).value('qctl_up')).toBe(0)
    const said = (text: string): string[] => exporter.output().stderr.split('\n').filter((line) => line.includes(text))
    expect(said('could not read Redis')).toHaveLength(1)
    proxy.resume()
    const up = await scrapeUntil(url, (got) => got.value('qctl_up') === 1, 'qctl_up 1 again')
    expect(up.value('qctl_stream_length', {topic})).toBe(1)
    expect(said('Redis answers scrapes again')).toHaveLength(1)
    await proxy.close()
    exporter.child.kill('SIGINT')
    const result = await exporter.done
    expect(result.code).toBe(0)
    expect(jsonEvents(result.stdout).at(-1)?.['failedScrapes']).toBeGreaterThanOrEqual(2)
  })
})
