import {describe, expect, it} from 'vitest'

import {resolveWorkerOptions} from '../../src/core/worker/options.js'

const handler = async (): Promise<void> => {}

describe('resolveWorkerOptions', () => {
  it('fills in the documented defaults and derives the timers from the visibility timeout and backoff', () => {
    const options = resolveWorkerOptions({topic: 't', group: 'g', handler})
    expect(options).toMatchObject({
      concurrency: 1,
      maxAttempts: 5,
      backoff: {kind: 'exponential', delayMs: 1000, maxMs: 300_000, jitter: 0.2},
      visibilityTimeoutMs: 30_000,
      shutdownTimeoutMs: 30_000,
      from: 'start',
      prefetch: 500,
      maxReadCount: 250,
      heartbeatIntervalMs: 10_000,
      reclaimIntervalMs: 5000,
      duePollMs: 200,
      pruneConsumersAfterMs: 3_600_000,
      untilEmpty: false,
    })
    expect(options.consumer).toMatch(/^.+-\d+$/)
  })

  it.each([
    [{concurrency: 0}, '--concurrency must be an integer of at least 1, not 0'],
    [{maxAttempts: 1.5}, '--max-attempts must be an integer of at least 1, not 1.5'],
    [{visibilityTimeoutMs: 10}, '--visibility-timeout must be an integer of at least 100, not 10'],
    [{backoff: {kind: 'linear' as never}}, '--backoff must be exponential or fixed, not linear'],
    [{topic: ''}, '--topic must not be empty'],
    [{onDeadLetter: 'continue' as const}, '--on-dead-letter needs --ordered: '],
    [{leaseTimeoutMs: 5000, ordered: false}, '--lease-timeout needs --ordered: '],
  ])('rejects %o naming the option', (override, message) => {
    expect(() => resolveWorkerOptions({topic: 't', group: 'g', handler, ...override})).toThrow(message)
  })

  it('takes --on-dead-letter and --lease-timeout with --ordered', () => {
    expect(resolveWorkerOptions({topic: 't', group: 'g', handler, ordered: true, onDeadLetter: 'hold-key', leaseTimeoutMs: 5000})).toMatchObject({ordered: true, onDeadLetter: 'hold-key', leaseTimeoutMs: 5000})
  })
})
