import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import type {TopResult} from '../../src/commands/top.js'
import {jsonOf, PROJECT_ROOT, runCli, startCli, waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

// `qctl top` / `qctl lag` on a worker idle for longer than the one-minute activity window (issue 15).
// It waits out that minute, so it runs with the chaos project (vitest.config.ts, LONG_RUNS), not in npm test.

const RECORDER = join(PROJECT_ROOT, 'test/fixtures/work/recorder.mjs')

describe('qctl top: a worker idle past the activity window', () => {
  const ctx = usePrivateRedis()

  // Redis 7.0 counts a consumer's idle time from its last read that returned something: a healthy
  // worker blocked in XREADGROUP on a quiet topic looked dead after a minute. Its liveness beat keeps it alive.
  it('counts an idle worker blocked in XREADGROUP as active after more than a minute without messages', async () => {
    const {redis} = ctx
    await redis.xadd('quiet.t', '*', 'data', JSON.stringify({}))
    const worker = startCli(['work', RECORDER, '-t', 'quiet.t', '-g', 'workers', '--consumer', 'quiet-worker', '-u', ctx.server.url], {timeoutMs: 120_000})
    try {
      await waitFor(async () => {
        const groups = (await redis.call('XINFO', 'GROUPS', 'quiet.t').catch(() => [])) as unknown[][]
        const info = groups[0] ?? []
        return info[info.indexOf('lag') + 1] === 0 && info[info.indexOf('pending') + 1] === 0
      }, 15_000, 'the worker to handle the one message')
      // Past the one-minute activity window, with nothing to read.
      await new Promise((resolve) => setTimeout(resolve, 65_000))
      const top = await runCli(['top', 'quiet.t', '--json', '-u', ctx.server.url, '--interval', '200ms'])
      expect(top.stderr).toBe('')
      expect(top.code).toBe(0)
      const [row] = jsonOf<TopResult>(top).rows
      expect(row).toMatchObject({group: 'workers', consumers: 1, activeConsumers: 1, trend: 'idle'})
      // lag counts consumers the same way.
      const lag = jsonOf<Array<{activeConsumers: number}>>(await runCli(['lag', 'quiet.t', '--json', '-u', ctx.server.url]))
      expect(lag.map((each) => each.activeConsumers)).toEqual([1])
    } finally {
      worker.child.kill('SIGTERM')
      expect((await worker.done).code).toBe(0)
    }
  }, 120_000)
})
