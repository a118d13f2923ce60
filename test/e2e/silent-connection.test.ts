import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {jsonOf, runCli, startCli, waitFor, type CliResult, type RunningCli} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'

// Issue 14: a Redis that goes silent after the connection is made (the proxy pauses it, or drops
// it like a NAT entry: no FIN, no RST) must not hang a one-shot command. Each command fails with
// exit 3 and one line naming the timeout, and for publish and replay how far it got and how to
// go on. The proxy sits between qctl and a private Redis; faults are injected mid-run.

/** Short, so the suite stays fast; the default is 10s. */
const COMMAND_TIMEOUT = ['--command-timeout', '1s']
/** A command still running after this long is killed: it hung, and the test fails. Not a speed target. */
const KILL_AFTER_MS = 60_000
const TEST_TIMEOUT_MS = 90_000

type Mode = 'pause' | 'blackhole'

const lines = (from: number, count: number): string => Array.from({length: count}, (_, i) => `${JSON.stringify({seq: from + i})}\n`).join('')

describe.each<Mode>(['pause', 'blackhole'])('a connection that goes silent mid-run (%s)', {timeout: TEST_TIMEOUT_MS}, (mode) => {
  const ctx = usePrivateRedis()
  let proxy: TcpProxy
  let dir: string
  let counter = 0
  const running: RunningCli[] = []
  const unique = (name: string): string => `${name}.${mode}.${++counter}`

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qctl-silent-'))
  })

  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  beforeEach(async () => {
    proxy = await startTcpProxy({port: ctx.server.port})
  })

  afterEach(async () => {
    for (const cli of running.splice(0)) cli.child.kill('SIGKILL')
    await proxy.close()
  })

  const silence = (): void => (mode === 'pause' ? proxy.pause() : proxy.blackhole())
  const address = (): string => `127.0.0.1:${proxy.port}`

  /** Run qctl through the proxy; stdin stays open for the test. */
  function start(args: string[], extra: string[] = COMMAND_TIMEOUT): RunningCli {
    const cli = startCli([...args, '-u', proxy.url, ...extra], {timeoutMs: KILL_AFTER_MS})
    running.push(cli)
    return cli
  }

  /** Wait until Redis has run `command` (a CLIENT LIST `cmd`) for the qctl connection named `name`. */
  async function waitForCommand(name: string, command: RegExp): Promise<void> {
    await waitFor(
      async () => {
        const list = (await ctx.redis.call('CLIENT', 'LIST')) as string
        return list.split('\n').some((line) => line.includes(` name=qctl:${name} `) && command.test(/ cmd=(\S+)/.exec(line)?.[1] ?? ''))
      },
      20_000,
      `qctl:${name} to run ${command}`,
    )
  }

  /** Exit 3 (not killed), and one line on stderr matching `line`. */
  function expectOneLineFailure(result: CliResult, line: RegExp): void {
    expect(result.signal, `killed after ${KILL_AFTER_MS}ms: it hung\n${result.stderr}`).toBeNull()
    expect(result.code, result.stdout + result.stderr).toBe(3)
    const stderr = result.stderr.split('\n').filter((text) => text !== '')
    expect(stderr, result.stderr).toHaveLength(1)
    expect(stderr[0]).toMatch(line)
  }

  const noAnswer = (): string => `Error: Redis at ${address().replaceAll('.', '\\.')} did not answer within 1s \\(--command-timeout\\)`

  /** Dead letters of `topic`, in the format qctl work writes. */
  async function deadLetter(topic: string, count: number): Promise<void> {
    for (let start = 0; start < count; start += 1000) {
      const pipeline = ctx.redis.pipeline()
      for (let n = start; n < Math.min(count, start + 1000); n++) {
        pipeline.xadd(`{${topic}}:dlq`, '*', 'data', JSON.stringify({n}), 'dlq.topic', topic, 'dlq.id', `1-${n}`, 'dlq.group', 'billing', 'dlq.attempts', '5', 'dlq.error-name', 'Error', 'dlq.error-message', `failed ${n}`)
      }
      await pipeline.exec()
    }
  }

  /** Every `seq` 1..count is in the topic at least once (at-least-once: none lost); how many are there twice. */
  async function ledger(topic: string, count: number): Promise<{missing: number; duplicates: number}> {
    const seen = new Map<number, number>()
    for (const [, fields] of await ctx.redis.xrange(topic, '-', '+')) {
      const seq = (JSON.parse(fields[1] as string) as {seq: number}).seq
      seen.set(seq, (seen.get(seq) ?? 0) + 1)
    }
    let missing = 0
    for (let seq = 1; seq <= count; seq++) if (!seen.has(seq)) missing++
    return {missing, duplicates: [...seen.values()].reduce((sum, n) => sum + n - 1, 0)}
  }

  it('publish --data: the XADD got no reply, so the message is in doubt (here it was stored)', async () => {
    const topic = unique('doc')
    // Slow replies, so the fault lands between Redis running the XADD and its reply reaching qctl.
    proxy.latency(300)
    const cli = start(['publish', topic, '--data', '{"n":1}'])
    await waitForCommand('publish', /^xadd$/)
    silence()
    const result = await cli.done
    expectOneLineFailure(
      result,
      new RegExp(`^${noAnswer()}; nothing was acknowledged; the message was sent without a reply: it may or may not be stored; rerun the same command to publish it again \\(it may then be stored twice, never lost\\)$`),
    )
    expect(await ctx.redis.xlen(topic)).toBe(1)
  })

  it('publish from stdin: exit 3 while stdin stays open, with the count, the messages in doubt and --skip-lines; resuming loses nothing', async () => {
    const topic = unique('stdin')
    const cli = start(['publish', topic, '--ndjson', '--json'])
    cli.child.stdin.write(lines(1, 3000))
    await waitFor(async () => (await ctx.redis.xlen(topic)) === 3000, 20_000, 'the first 3000 lines published')
    // Let the replies reach qctl: the fault is for what comes next.
    await new Promise((resolve) => setTimeout(resolve, 300))
    silence()
    cli.child.stdin.write(lines(3001, 3000))
    const result = await cli.done
    expect(result.signal, 'killed: it hung').toBeNull()
    expect(result.code).toBe(3)
    const {error} = jsonOf<{error: {code: string; message: string; details: {published: number; lastLine: number; inDoubt: number}}}>(result)
    const {published, lastLine, inDoubt} = error.details
    expect(error.code).toBe('REDIS_UNAVAILABLE')
    expect(published).toBe(3000)
    expect(lastLine).toBe(3000)
    expect(inDoubt).toBeGreaterThan(0)
    expect(error.message).toBe(
      `Redis at ${address()} did not answer within 1s (--command-timeout); published 3000 messages (through input line 3000); ${inDoubt} more were sent without a reply: they may or may not be stored; rerun with --skip-lines 3000 to continue (the ${inDoubt} messages in doubt go again: they may then be stored twice, never lost)`,
    )

    const resumed = await runCli(['publish', topic, '--ndjson', '--skip-lines', String(lastLine), '-u', ctx.server.url], {input: lines(1, 6000)})
    expect(resumed.code, resumed.stderr).toBe(0)
    const {missing, duplicates} = await ledger(topic, 6000)
    expect(missing).toBe(0)
    expect(duplicates).toBeLessThanOrEqual(inDoubt)
  })

  it('publish an NDJSON file: exit 3 mid-run, one line with the count and --skip-lines; resuming loses nothing', async () => {
    const topic = unique('file')
    const file = join(dir, `${topic}.ndjson`)
    await writeFile(file, lines(1, 40_000))
    // Slow round trips, so the run is still going when the fault comes.
    proxy.latency(100)
    const cli = start(['publish', topic, file])
    await waitFor(async () => (await ctx.redis.xlen(topic)) >= 2000, 30_000, 'the first batches published')
    silence()
    const result = await cli.done
    const pattern = new RegExp(
      `^${noAnswer()}; published (\\d+) messages \\(through input line (\\d+)\\); (\\d+) more were sent without a reply: they may or may not be stored; rerun with --skip-lines (\\d+) to continue \\(the (\\d+) messages in doubt go again: they may then be stored twice, never lost\\)$`,
    )
    expectOneLineFailure(result, pattern)
    const [, published, line, inDoubt, skip, inDoubtAgain] = pattern.exec(result.stderr.trim()) ?? []
    expect(line).toBe(published)
    expect(skip).toBe(published)
    expect(inDoubtAgain).toBe(inDoubt)

    const resumed = await runCli(['publish', topic, file, '--skip-lines', String(skip), '-u', ctx.server.url])
    expect(resumed.code, resumed.stderr).toBe(0)
    const {missing, duplicates} = await ledger(topic, 40_000)
    expect(missing).toBe(0)
    expect(duplicates).toBeLessThanOrEqual(Number(inDoubt))
  })

  // Replayed entries go to the replay stream of the group that dead-lettered them (billing).
  it('dlq replay --rate 5: exit 3 with the count and "run it again"; the rerun replays the rest, nothing twice', async () => {
    const topic = unique('replay-rate')
    await deadLetter(topic, 20)
    const cli = start(['dlq', 'replay', topic, '--rate', '5', '--yes'])
    await waitFor(async () => (await ctx.redis.xlen(`{${topic}}:replay:billing`)) >= 3, 20_000, 'the first entries replayed')
    silence()
    const result = await cli.done
    expectOneLineFailure(
      result,
      // The silence hits either a replay script (one entry in doubt) or the read of the next entries' groups (none).
      new RegExp(`^${noAnswer()}; replayed \\d+ of 20(, and 1 more may have moved \\(sent without a reply\\))?; run the same command again to continue with what is left \\(nothing is replayed twice\\)$`),
    )
    const rerun = await runCli(['dlq', 'replay', topic, '--yes', '-u', ctx.server.url])
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(await ctx.redis.xlen(`{${topic}}:dlq`)).toBe(0)
    expect(await ctx.redis.xlen(`{${topic}}:replay:billing`)).toBe(20)
  })

  it('dlq replay without --rate: exit 3 with the count, the entries in doubt and "run it again"; nothing replayed twice', async () => {
    const topic = unique('replay')
    await deadLetter(topic, 3000)
    proxy.latency(100)
    const cli = start(['dlq', 'replay', topic, '--yes'])
    await waitFor(async () => (await ctx.redis.xlen(`{${topic}}:replay:billing`)) >= 200, 30_000, 'the first batch replayed')
    silence()
    const result = await cli.done
    expectOneLineFailure(
      result,
      new RegExp(`^${noAnswer()}; replayed \\d+ of 3000, and \\d+ more may have moved \\(sent without a reply\\); run the same command again to continue with what is left \\(nothing is replayed twice\\)$`),
    )
    const rerun = await runCli(['dlq', 'replay', topic, '--yes', '-u', ctx.server.url])
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(await ctx.redis.xlen(`{${topic}}:dlq`)).toBe(0)
    expect(await ctx.redis.xlen(`{${topic}}:replay:billing`)).toBe(3000)
  })

  it('dlq purge --yes: exit 3 with the count and "run it again"', async () => {
    const topic = unique('purge')
    await deadLetter(topic, 3000)
    proxy.latency(300)
    const cli = start(['dlq', 'purge', topic, '--yes'])
    await waitForCommand('dlq', /^xdel$/)
    silence()
    const result = await cli.done
    expectOneLineFailure(result, new RegExp(`^${noAnswer()}; purged \\d+ of 3000; run the same command again to delete the rest$`))
  })

  describe('read-only commands: exit 3 and the timeout, in one line', () => {
    let topic: string

    beforeEach(async () => {
      topic = unique('read')
      await ctx.redis.xadd(topic, '*', 'data', '{}')
      await ctx.redis.xgroup('CREATE', topic, 'billing', '0')
      await deadLetter(topic, 3)
      // Slow replies, so the fault lands between a command and its reply.
      proxy.latency(300)
    })

    const cases: Array<[string, (topic: string, dlqId: string) => string[], string, RegExp]> = [
      ['inspect', (t) => ['inspect', t], 'inspect', /^x/],
      // lag and top read topics with qctl's read-only script (EVALSHA_RO; EVAL_RO the first time).
      ['lag', (t) => ['lag', t], 'lag', /^(x|eval)/],
      ['top --once', (t) => ['top', t, '--once', '--interval', '1s'], 'top', /^(x|eval)/],
      ['dlq list', (t) => ['dlq', 'list', t], 'dlq', /^x/],
      ['dlq show', (t, id) => ['dlq', 'show', t, id], 'dlq', /^xrange$/],
    ]

    it.each(cases)('%s', async (_name, args, connection, command) => {
      const [first] = await ctx.redis.xrange(`{${topic}}:dlq`, '-', '+', 'COUNT', 1)
      const cli = start(args(topic, first?.[0] ?? 'missing'))
      await waitForCommand(connection, command)
      silence()
      expectOneLineFailure(await cli.done, new RegExp(`^${noAnswer()}$`))
    })
  })

  describe('lag --wait', () => {
    let topic: string

    beforeEach(async () => {
      // A gate that fails: one entry the group has not read.
      topic = unique('wait')
      await ctx.redis.xadd(topic, '*', 'data', '{}')
      await ctx.redis.xgroup('CREATE', topic, 'billing', '0')
    })

    it('ends when --wait (plus --connect-timeout) runs out, before the command timeout: exit 3, one line', async () => {
      const cli = start(['lag', topic, '--max-lag', '0', '--wait', '3s'], ['--command-timeout', '1m', '--connect-timeout', '1s'])
      await waitForCommand('lag', /^(x|eval)/)
      silence()
      expectOneLineFailure(
        await cli.done,
        new RegExp(`^Error: Redis at ${address().replaceAll('.', '\\.')} did not answer within [\\d.]+s, and --wait 3s \\(plus 1s, the --connect-timeout\\) has run out$`),
      )
    })

    it('ends at the command timeout when that comes first: exit 3, one line', async () => {
      const cli = start(['lag', topic, '--max-lag', '0', '--wait', '5m'])
      await waitForCommand('lag', /^(x|eval)/)
      silence()
      expectOneLineFailure(await cli.done, new RegExp(`^${noAnswer()}$`))
    })

    // Nothing is silenced here: one mode is enough (registered once, not skipped in the other).
    if (mode === 'pause') {
      it('a gate that does not pass in time, Redis answering, still exits 8', async () => {
        const result = await start(['lag', topic, '--max-lag', '0', '--wait', '1500ms']).done
        expect(result.code).toBe(8)
        expect(result.stderr).toBe(`gave up waiting after 1.50s (--wait): 1 gate still failing\nGate failed: ${topic}/billing: lag 1 > --max-lag 0\n`)
      })
    }
  })
})
