import {EventEmitter} from 'node:events'

import {Chalk} from 'chalk'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import {WorkReporter} from '../../src/cli/work-reporter.js'
import type {Worker, WorkerStats} from '../../src/core/worker/worker.js'
import {formatStatus} from '../../src/format/work.js'
import type {Spinner} from '../../src/output/spinner.js'

const spinner: Spinner = {update: () => undefined, log: () => undefined, stop: () => undefined}

/** A worker as the reporter sees it: events and stats the test sets. */
class FakeWorker extends EventEmitter {
  stats: WorkerStats = {processed: 0, retried: 0, deadLettered: 0, lost: 0, lostIds: [], duplicates: 0, inFlight: 0, readAhead: 0, elapsedMs: 0}
}

describe('formatStatus', () => {
  it('counts running handlers as in flight and read-ahead entries apart', () => {
    expect(formatStatus({processed: 1200, retried: 3, deadLettered: 1, inFlight: 8, readAhead: 250}, 950)).toBe(
      'processed 1,200 · retried 3 · dead-lettered 1 · in flight 8 · read ahead 250 · 950 msg/s',
    )
  })
})

describe('WorkReporter without a terminal', () => {
  let written: string[]
  beforeEach(() => {
    vi.useFakeTimers()
    written = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
  })
  afterEach(() => {
    vi.restoreAllMocks()
    vi.useRealTimers()
  })

  it('prints the status line when it changes, not again while the worker is idle', () => {
    const worker = new FakeWorker()
    const reporter = new WorkReporter(worker as unknown as Worker, 'plain', spinner, new Chalk({level: 0}))
    vi.advanceTimersByTime(10_000)
    expect(written).toEqual(['processed 0 · retried 0 · dead-lettered 0 · in flight 0 · read ahead 0 · 0 msg/s\n'])
    vi.advanceTimersByTime(60_000)
    expect(written).toHaveLength(1)
    worker.stats = {...worker.stats, inFlight: 2, readAhead: 5}
    vi.advanceTimersByTime(10_000)
    expect(written.at(-1)).toBe('processed 0 · retried 0 · dead-lettered 0 · in flight 2 · read ahead 5 · 0 msg/s\n')
    vi.advanceTimersByTime(30_000)
    expect(written).toHaveLength(2)
    reporter.stop()
  })
})

describe('WorkReporter with --json', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('keeps the summary the last event on stdout: a warning after it goes to stderr', () => {
    const out: string[] = []
    const err: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk))
      return true
    })
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk))
      return true
    })
    const worker = new FakeWorker()
    const reporter = new WorkReporter(worker as unknown as Worker, 'json', spinner, new Chalk({level: 0}))
    worker.emit('warning', {message: 'before'})
    reporter.finish({topic: 't', group: 'g', consumer: 'c', processed: 1, retried: 0, deadLettered: 0, lost: 0, lostIds: [], duplicates: 0, unacknowledged: 0, unfinished: 0, released: 0, durationMs: 1, rate: 1, stopReason: 'max-messages'})
    worker.emit('warning', {message: 'after, while closing'})
    reporter.stop()
    const events = out.join('').trim().split('\n').map((line) => JSON.parse(line) as {event: string; message?: string})
    expect(events.map((event) => event.event)).toEqual(['warning', 'summary'])
    expect(err.join('')).toBe('warning: after, while closing\n')
  })
})
