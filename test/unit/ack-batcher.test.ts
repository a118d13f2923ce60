import {describe, expect, it} from 'vitest'

import {AckBatcher, type AckReply, type AckResult} from '../../src/core/worker/ack-batcher.js'

describe('AckBatcher', () => {
  it('sends one batch when full, the rest within the delay, and reports duplicates', async () => {
    const sent: Array<[string[], string[]]> = []
    const results: AckResult[] = []
    const batcher = new AckBatcher(
      async (ids, retried) => {
        sent.push([ids, retried])
        return {acked: ids.length - (ids.includes('dup') ? 1 : 0), duplicates: 0}
      },
      (result) => void results.push(result),
      3,
      5,
      250,
      async (ids) => ids.filter((id) => id === 'dup').length,
      0,
    )
    batcher.add('1-0', false)
    batcher.add('2-0', true)
    batcher.add('dup', false)
    batcher.add('4-0', false)
    expect(sent).toEqual([[['1-0', '2-0', 'dup'], ['2-0']]])
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(sent).toEqual([
      [['1-0', '2-0', 'dup'], ['2-0']],
      [['4-0'], []],
    ])
    await batcher.flush()
    expect(results).toEqual([
      {acked: 2, duplicates: 1, failed: undefined},
      {acked: 1, duplicates: 0, failed: undefined},
    ])
  })

  it('asks which entries were taken over only when one could have been: an entry found acknowledged is no duplicate by itself', async () => {
    const results: AckResult[] = []
    const asked: string[][] = []
    const takenOver = async (ids: string[]): Promise<number> => {
      asked.push(ids)
      return 1
    }
    const batcher = new AckBatcher(async () => ({acked: 0, duplicates: 0}), (result) => void results.push(result), 2, 1, 250, takenOver, 60_000)
    // Delivered just now: nobody could have taken them over within the visibility timeout.
    batcher.add('1-0', false, performance.now())
    batcher.add('2-0', false, performance.now())
    await batcher.flush()
    // Last renewed over a visibility timeout ago: another worker may have taken it over.
    batcher.add('3-0', false, performance.now() - 61_000)
    await batcher.flush()
    expect(asked).toEqual([['3-0']])
    expect(results).toEqual([
      {acked: 0, duplicates: 0, failed: undefined},
      {acked: 0, duplicates: 1, failed: undefined},
    ])
  })

  it('passes the entries taken over from another consumer with their batch (again after a failed send), and adds the taker-side count to the late batch\'s', async () => {
    const sent: string[][][] = []
    const results: AckResult[] = []
    let fail = true
    const batcher = new AckBatcher(
      async (ids, withRecords, takenOver) => {
        sent.push([ids, withRecords, takenOver])
        if (fail) {
          fail = false
          throw new Error('Connection is closed.')
        }
        return {acked: ids.length, duplicates: takenOver.length}
      },
      (result) => (result.failed === undefined ? void results.push(result) : 'retry'),
      10,
      1,
      1,
      async (ids) => ids.length,
      60_000,
    )
    batcher.add('1-0', true, performance.now() - 61_000, true)
    batcher.add('2-0', false, performance.now() - 61_000)
    await batcher.flush()
    expect(sent).toEqual([
      [['1-0', '2-0'], ['1-0'], ['1-0']],
      [['1-0', '2-0'], ['1-0'], ['1-0']],
    ])
    // 1 from the sink (an entry taken over, its first handler acknowledged first) + 2 from finishedByTaker.
    expect(results).toEqual([{acked: 2, duplicates: 3, failed: undefined}])
  })

  it('reports a failed send without throwing (the entries stay pending and come back)', async () => {
    const results: AckResult[] = []
    const batcher = new AckBatcher(async () => Promise.reject(new Error('Connection is closed.')), (result) => void results.push(result))
    batcher.add('1-0', false)
    await batcher.flush()
    expect(results).toEqual([{acked: 0, duplicates: 0, failed: new Error('Connection is closed.')}])
  })

  it('flush waits for every acknowledgement in flight, answered in any order, and for none when idle', async () => {
    const answers: Array<() => void> = []
    const results: AckResult[] = []
    const batcher = new AckBatcher(
      async (ids) => new Promise<AckReply>((resolve) => answers.push(() => resolve({acked: ids.length, duplicates: 0}))),
      (result) => void results.push(result),
      1,
    )
    await batcher.flush()
    batcher.add('1-0', false)
    batcher.add('2-0', false)
    let flushed = false
    const flushing = batcher.flush().then(() => {
      flushed = true
    })
    answers[1]?.()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(flushed).toBe(false)
    answers[0]?.()
    await flushing
    expect(results).toHaveLength(2)
    // A second flush after everything was answered returns at once.
    await batcher.flush()
  })
})
