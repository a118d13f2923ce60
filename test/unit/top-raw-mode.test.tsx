import {PassThrough, Writable} from 'node:stream'

import {expect, it} from 'vitest'

import type {SnapshotSource} from '../../src/core/stats/snapshot.js'
import {runTopScreen} from '../../src/ui/run-top.js'

// `qctl top`'s screen puts the terminal in raw mode before its first frame. Ink alone turns raw mode
// on in an effect after the first frame is written: an Enter pressed in between was echoed by the
// terminal (shifting the frame a line) and reached Ink as "\n", which opened nothing (a failure seen
// in test/e2e/top-partitions.test.ts under load). Here the terminal is a recording one, so the order
// is checked, not timed; the e2e tests drive the real screen in tmux.

/** A terminal that records raw-mode changes and writes, in order. */
function recordingTerminal(events: string[]): {stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream} {
  const stdin = Object.assign(new PassThrough(), {
    isTTY: true,
    setRawMode(on: boolean) {
      events.push(`raw ${on}`)
      return stdin
    },
    ref() {
      return stdin
    },
    unref() {
      return stdin
    },
  })
  const stdout = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        events.push(`write ${String(chunk).length}`)
        done()
      },
    }),
    {isTTY: true, columns: 120, rows: 30},
  )
  return {stdin: stdin as unknown as NodeJS.ReadStream, stdout: stdout as unknown as NodeJS.WriteStream}
}

it('turns raw mode on before it writes anything, and off when the screen closes', async () => {
  const events: string[] = []
  // No topics: the screen's chrome is enough to see the order.
  const source: SnapshotSource = {refresh: async () => ({at: Date.now(), topics: [], focus: null})}
  const controller = new AbortController()
  const running = runTopScreen({source, intervalMs: 1000, url: 'redis://127.0.0.1:6379', server: null, colour: false}, controller.signal, recordingTerminal(events))
  await new Promise((resolve) => setTimeout(resolve, 200))
  controller.abort()
  await running
  const firstWrite = events.findIndex((event) => event.startsWith('write'))
  expect(firstWrite).toBeGreaterThan(-1)
  expect(events.indexOf('raw true')).toBeGreaterThan(-1)
  expect(events.indexOf('raw true')).toBeLessThan(firstWrite)
  expect(events.filter((event) => event.startsWith('raw')).at(-1)).toBe('raw false')
})
