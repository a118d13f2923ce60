import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runCli, startCli, waitFor} from '../helpers/cli.js'
import {jsonEvents} from '../helpers/json-lines.js'
import {useTestRedis} from '../helpers/test-redis.js'

/** `qctl work`'s output shapes: the `error` of events, and what the status counts. */

const ctx = useTestRedis()
let dir = ''
let counter = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-work-json-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})


async function handler(source: string): Promise<string> {
  const file = join(dir, `handler-${++counter}.mjs`)
  await writeFile(file, source)
  return file
}

describe('qctl work --json', () => {
  it('gives `error` one shape, {name, message}, in retry and deadLetter events; `partition` null on a plain topic', async () => {
    const topic = `shape-${++counter}`
    await ctx.redis.xadd(topic, '*', 'data', '{}')
    // A TypeError on the first attempt (retried), then a PermanentError (dead-lettered).
    const file = await handler(`export default async (message, ctx) => {
  ctx.log('attempt', message.attempt)
  if (message.attempt === 1) throw new TypeError('total is not a number')
  throw Object.assign(new Error('non-positive total'), {name: 'PermanentError'})
}
`)
    const result = await runCli(['work', file, '-t', topic, '-g', 'billing', '--backoff-delay', '10ms', '--until-empty', '--json', '-u', ctx.server.url])
    expect(result.code).toBe(0)
    const events = jsonEvents(result.stdout)
    const retry = events.find((event) => event.event === 'retry')
    const deadLetter = events.find((event) => event.event === 'deadLetter')
    expect(retry?.['error']).toEqual({name: 'TypeError', message: 'total is not a number'})
    expect(deadLetter?.['error']).toEqual({name: 'PermanentError', message: 'non-positive total'})
    expect(Object.keys(deadLetter ?? {}).sort()).toEqual(['attempts', 'dlqId', 'error', 'event', 'id', 'originId', 'partition'])
    expect(Object.keys(retry ?? {}).sort()).toEqual(['attempt', 'delayMs', 'error', 'event', 'id', 'partition'])
    const logs = events.filter((event) => event.event === 'log')
    expect(logs.map((event) => event['message'])).toEqual(['attempt 1', 'attempt 2'])
    for (const event of [retry, deadLetter, ...logs]) expect(event?.['partition']).toBeNull()
  })

  it('counts running handlers as inFlight and entries read ahead as readAhead in stats', async () => {
    const topic = `status-${++counter}`
    for (let n = 0; n < 20; n++) await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({n}))
    const release = join(dir, `release-${counter}`)
    // Handlers that wait until the test releases them: two run, the rest wait in the read-ahead.
    const file = await handler(`import {existsSync} from 'node:fs'
export default async () => {
  while (!existsSync(${JSON.stringify(release)})) await new Promise((resolve) => setTimeout(resolve, 20))
}
`)
    const worker = startCli(['work', file, '-t', topic, '-g', 'billing', '--concurrency', '2', '--until-empty', '--json', '-u', ctx.server.url])
    try {
      // stats come every 5 s.
      await waitFor(() => jsonEvents(worker.output().stdout).some((event) => event.event === 'stats'), 20_000, 'a stats event')
      const stats = jsonEvents(worker.output().stdout).find((event) => event.event === 'stats')
      expect(stats).toMatchObject({processed: 0, inFlight: 2})
      expect(stats?.['readAhead']).toBeGreaterThan(0)
      await writeFile(release, '')
      const result = await worker.done
      expect(result.code).toBe(0)
      expect(jsonEvents(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 20})
    } finally {
      worker.child.kill('SIGKILL')
    }
  })
})
