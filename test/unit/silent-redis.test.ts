import {describe, expect, it} from 'vitest'

import {QctlError} from '../../src/core/errors.js'
import {waitForGates} from '../../src/core/lag/gate-wait.js'
import type {LagRow} from '../../src/core/lag/lag.js'
import {failureDuring} from '../../src/core/publish/publish-errors.js'
import {classifyRedisError} from '../../src/core/redis/redis-errors.js'

// A Redis that stops answering (issue 14), without Redis: how a command timeout is named, what
// publish says about messages whose reply never came, and how `lag --wait` stays bounded.

const context = {address: '127.0.0.1:6390', username: 'default', commandTimeoutMs: 10_000}
const timedOut = (): Error => new Error('Command timed out')

describe('classifyRedisError: a command timeout', () => {
  it('is REDIS_UNAVAILABLE (exit 3), naming the server, the time and the flag', () => {
    const typed = classifyRedisError(timedOut(), context)
    expect(typed).toBeInstanceOf(QctlError)
    expect(typed?.exitCode).toBe(3)
    expect(typed?.message).toBe('Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout)')
  })

  it('says "in time" when the timeout is not known', () => {
    expect(classifyRedisError(timedOut(), {address: 'h:1', username: 'default'})?.message).toBe('Redis at h:1 did not answer in time (--command-timeout)')
  })
})

describe('publish: messages sent without a reply are in doubt', () => {
  const progress = (published: number, line: number) => ({published, firstId: published > 0 ? '1-0' : undefined, lastId: published > 0 ? '2-0' : undefined, lastAckedLine: line})
  const fail = (published: number, line: number, inDoubt: number, ndjson = true): QctlError =>
    failureDuring(timedOut(), {topic: 't', progress: progress(published, line), redis: context, ndjson, inDoubt}) as QctlError

  it('after acknowledged lines: the count, how many are in doubt, and --skip-lines (they may be stored twice, never lost)', () => {
    const error = fail(3000, 3000, 2000)
    expect(error.message).toBe(
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); published 3000 messages (through input line 3000); 2000 more were sent without a reply: they may or may not be stored; rerun with --skip-lines 3000 to continue (the 2000 messages in doubt go again: they may then be stored twice, never lost)',
    )
    expect(error.details).toMatchObject({published: 3000, lastLine: 3000, inDoubt: 2000})
  })

  it('before any acknowledgement: rerun the same command', () => {
    expect(fail(0, 0, 1000).message).toBe(
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); nothing was acknowledged; 1000 messages were sent without a reply: they may or may not be stored; rerun the same command to publish them again (they may then be stored twice, never lost)',
    )
  })

  it('a single document', () => {
    expect(fail(0, 0, 1, false).message).toBe(
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); nothing was acknowledged; the message was sent without a reply: it may or may not be stored; rerun the same command to publish it again (it may then be stored twice, never lost)',
    )
  })

  it('a resumed run: the resume line stays after the skipped lines; details carry the condition, resume and inDoubt', () => {
    const error = fail(0, 500, 1000)
    expect(error.message).toBe(
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); nothing was acknowledged; 1000 messages were sent without a reply: they may or may not be stored; rerun with --skip-lines 500 to continue (the 1000 messages in doubt go again: they may then be stored twice, never lost)',
    )
    expect(error.details).toEqual({condition: 'TIMEOUT', published: 0, firstId: null, lastId: null, lastLine: 500, resume: '--skip-lines 500', inDoubt: 1000})
  })

  it('a lost connection: the same sentence, after "lost connection to"', () => {
    const closed = failureDuring(new Error('Connection is closed.'), {topic: 't', progress: progress(2000, 2000), redis: context, ndjson: true, inDoubt: 1}) as QctlError
    expect(closed.message).toBe(
      'lost connection to 127.0.0.1:6390: connection closed by the server; published 2000 messages (through input line 2000); 1 more was sent without a reply: it may or may not be stored; rerun with --skip-lines 2000 to continue (the 1 message in doubt goes again: it may then be stored twice, never lost)',
    )
  })

  it('in doubt and stored after the failure, both named before the resume line', () => {
    const later = {count: 1000, firstLine: 4001, lastLine: 5000}
    const error = failureDuring(timedOut(), {topic: 't', progress: progress(3000, 3000), redis: context, ndjson: true, inDoubt: 1000, storedAfterFailure: later}) as QctlError
    expect(error.message).toBe(
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); published 3000 messages (through input line 3000); 1000 more were sent without a reply: they may or may not be stored; besides, 1000 messages from input lines 4001-5000 were stored after the failure (a rerun sends them again); rerun with --skip-lines 3000 to continue (the 1000 messages in doubt go again: they may then be stored twice, never lost)',
    )
    expect(error.details).toMatchObject({inDoubt: 1000, storedAfterFailure: later})
  })

  it('nothing in doubt: the message is as before', () => {
    expect(fail(1000, 1000, 0).message).toBe(
      'Redis at 127.0.0.1:6390 did not answer within 10s (--command-timeout); published 1000 messages (through input line 1000); rerun with --skip-lines 1000 to continue',
    )
  })
})

describe('waitForGates (lag --wait)', () => {
  const row = (failing: boolean): LagRow => ({
    node: null,
    topic: 't',
    partition: null,
    partitions: 1,
    group: 'g',
    groupExists: true,
    length: 1,
    lag: failing ? 1 : 0,
    lagSource: 'redis',
    pending: 0,
    replayed: 0,
    oldestPendingId: null,
    oldestPendingAt: null,
    oldestPendingAgeMs: null,
    consumers: 0,
    activeConsumers: 0,
    deadLetters: 0,
    topicDeadLetters: 0,
    scheduled: 0,
    scheduledDue: 0,
    failedGates: failing ? [{gate: 'max-lag', limit: 0, value: 1}] : [],
    warnings: [],
  })
  const wait = {waitMs: 300, graceMs: 200, errorContext: context}

  it('returns as soon as the gates pass', async () => {
    const answers = [[row(true)], [row(false)]]
    let checks = 0
    const rows = await waitForGates(async () => answers[checks++] ?? [], {...wait, startedAt: Date.now(), waitMs: 60_000})
    expect(rows[0]?.failedGates).toEqual([])
    expect(checks).toBe(2)
  })

  it('returns the failing rows when the wait runs out while Redis answers (the caller exits 8)', async () => {
    const rows = await waitForGates(async () => [row(true)], {...wait, startedAt: Date.now()})
    expect(rows[0]?.failedGates).toHaveLength(1)
  })

  it('gives up on a check Redis never answers once the wait and its grace are over: exit 3, one line', async () => {
    let checks = 0
    const never = async (): Promise<LagRow[]> => (checks++ === 0 ? [row(true)] : new Promise<LagRow[]>(() => {}))
    const error = await waitForGates(never, {...wait, startedAt: Date.now()}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(QctlError)
    expect((error as QctlError).exitCode).toBe(3)
    expect((error as QctlError).message).toMatch(/^Redis at 127\.0\.0\.1:6390 did not answer within [\d.]+s, and --wait 0\.3s \(plus 0\.2s, the --connect-timeout\) has run out$/)
  })

  it('bounds the first check too (the wait counts from the start)', async () => {
    const error = await waitForGates(async () => new Promise<LagRow[]>(() => {}), {...wait, startedAt: Date.now()}).catch((caught: unknown) => caught)
    expect((error as QctlError).code).toBe('REDIS_UNAVAILABLE')
  })
})
