import {afterEach, describe, expect, it} from 'vitest'

import {startCli, waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {WorkerFleet, seeded} from './lib/fleet.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {newScenario, publishAll, settle} from './lib/scenario.js'

// Chaos scenarios 5 and 6 of issue 7: Redis itself crashes, and connections are cut under the workers.

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('chaos: Redis faults', {timeout: CHAOS_TIMEOUT}, () => {
  // appendfsync always: every write Redis acknowledged is on disk before the reply, so it survives SIGKILL.
  const redis = usePrivateRedis({args: ['--appendonly', 'yes', '--appendfsync', 'always']})
  let fleet: WorkerFleet | undefined

  afterEach(async () => {
    await fleet?.killAll()
    fleet = undefined
  })

  it('5. Redis SIGKILLed mid-run and restarted: workers carry on by themselves; the interrupted publish names the line to resume from, and the rerun loses nothing', async () => {
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('redis-kill', scaled(4_000, 40_000))
    const lines = ndjson.trimEnd().split('\n')
    fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args: ['--concurrency', '4', '--visibility-timeout', '2s'], env: {CHAOS_SLEEP_MS: '1'}})
    for (let i = 0; i < 3; i++) fleet.start()
    // Connected before Redis dies (a worker that cannot connect at start exits 3: scenario 7).
    await fleet.ready()

    // A publisher fed line by line (as from a pipe), so Redis dies in the middle of its input.
    const publisher = startCli(['publish', topic, '--ndjson', '-u', redis.server.url], {timeoutMs: 120_000})
    const chunk = 200
    let written = 0
    const feeding = (async () => {
      while (written < lines.length && publisher.child.exitCode === null) {
        const next = lines.slice(written, written + chunk)
        publisher.child.stdin.write(`${next.join('\n')}\n`)
        written += next.length
        await sleep(50)
      }
      publisher.child.stdin.end()
    })()
    await waitFor(async () => (await redis.redis.xlen(topic)) >= Math.floor(count / 3), 30_000, 'a third of the messages published')
    redis.redis.disconnect()
    await redis.server.kill('SIGKILL')
    await sleep(1000)
    await redis.server.restart()
    redis.redis = await redis.server.client()
    await feeding
    const published = await publisher.done
    expect(published.code, `${published.stdout}${published.stderr}`).toBe(3)
    const resume = /rerun with --skip-lines (\d+) to continue/.exec(published.stderr)
    expect(resume, published.stderr).not.toBeNull()
    const skip = Number(resume?.[1])
    expect(skip).toBeGreaterThan(0)
    expect(skip).toBeLessThan(count)

    // Resume the file from the line it named: together the two runs publish every line.
    await publishAll(redis.server.url, topic, ndjson, ['--skip-lines', String(skip)])
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    for (const result of results) expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: count})
    recordRow({scenario: '5 Redis SIGKILL + restart (AOF always), publish resumed with --skip-lines', messages: count, faults: '1 Redis SIGKILL', lost: 0, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('6. CLIENT KILL of the workers\' connections, again and again: they resume, and entries delivered to a cut read are recovered', async () => {
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('client-kill', scaled(6_000, 60_000))
    fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args: ['--concurrency', '4', '--visibility-timeout', '2s'], env: {CHAOS_SLEEP_MS: '2'}})
    for (let i = 0; i < 2; i++) fleet.start()
    await fleet.ready()
    await publishAll(redis.server.url, topic, ndjson)

    const random = seeded(11)
    let cuts = 0
    const rounds = scaled(8, 40)
    for (let round = 0; round < rounds; round++) {
      await sleep(250 + Math.floor(random() * 250))
      const clients = String(await redis.redis.client('LIST')).split('\n')
      // Mostly the blocking readers (where a served batch can be lost with the reply), sometimes the command connections.
      const target = random() < 0.7 ? 'qctl:work:reader' : 'qctl:work:commands'
      for (const line of clients) {
        const id = /(?:^| )id=(\d+)/.exec(line)?.[1]
        if (id !== undefined && line.includes(` name=${target} `)) {
          await redis.redis.client('KILL', 'ID', id)
          cuts++
        }
      }
    }
    expect(cuts).toBeGreaterThan(0)
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    for (const result of results) expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: count})
    recordRow({scenario: '6 CLIENT KILL of worker connections', messages: count, faults: `${cuts} connections cut`, lost: 0, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - started})
  })
})
