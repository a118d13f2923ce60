import {render} from 'ink-testing-library'
import {afterEach, describe, expect, it} from 'vitest'

import type {Focus, Snapshot, SnapshotSource} from '../../../src/core/stats/snapshot.js'
import {TopApp} from '../../../src/ui/TopApp.js'
import {groupSnapshot, snapshotAt, topicSnapshot} from './fixtures.js'

// eslint-disable-next-line no-control-regex
const plain = (frame: string | undefined): string => (frame ?? '').replace(/\u001B\[[0-9;]*m/g, '')

const KEYS = {down: '\u001B[B', up: '\u001B[A', enter: '\r', escape: '\u001B'}

/**
 * A source that makes a snapshot per refresh without Redis: "alpha" grows (100 in, 40 out per
 * refresh, lag rising), "beta" drains (10 in, 60 out). It records the focus of every refresh and
 * can be told to fail, as if Redis were unreachable.
 */
class FakeSource implements SnapshotSource {
  refreshes = 0
  focuses: Array<Focus | null> = []
  failing = false

  async refresh(focus: Focus | null): Promise<Snapshot> {
    this.refreshes++
    this.focuses.push(focus)
    if (this.failing) throw new Error('connect ECONNREFUSED 127.0.0.1:6390')
    const n = this.refreshes
    const detail = focus === null ? null : {...focus, consumers: [{name: `${focus.topic}-worker-1`, pending: 3, idleMs: 200, inactiveMs: 200}], oldestPending: [{id: '1700000000000-0', consumer: `${focus.topic}-worker-1`, idleMs: 5000, deliveries: 4, publishedAt: new Date(1_700_000_000_000).toISOString()}], retryInMs: new Map<string, number>(), busiestKeys: []}
    return snapshotAt(n * 1000, [
      topicSnapshot('alpha', {length: 100 * n, entriesAdded: 100 * n, groups: [groupSnapshot('g', {entriesRead: 40 * n, lag: 60 * n, pending: 0})]}),
      topicSnapshot('beta', {length: 10 * n, entriesAdded: 10 * n, groups: [groupSnapshot('g', {entriesRead: 60 * n, lag: 5, pending: 0})]}),
    ], detail)
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('TopApp driven by a fake source', () => {
  let app: ReturnType<typeof render> | undefined

  afterEach(() => {
    app?.unmount()
    app = undefined
  })

  const start = (source: SnapshotSource) => {
    app = render(<TopApp source={source} intervalMs={20} url="redis://127.0.0.1:6390" server="redis 7.0.15" colour={false} />)
    return app
  }
  const frameOf = (): string => plain(app?.lastFrame())

  it('refreshes on its own and shows rates, trend marks and the sort', async () => {
    const source = new FakeSource()
    start(source)
    await until(() => /alpha\/g\s+▲ growing/.test(frameOf()), 'alpha growing')
    const frame = frameOf()
    expect(frame).toContain('qctl top  redis://127.0.0.1:6390  redis 7.0.15')
    expect(frame).toMatch(/beta\/g\s+▼ draining/)
    // Sorted by lag: alpha (lag rising) first.
    expect(frame.indexOf('alpha/g')).toBeLessThan(frame.indexOf('beta/g'))
    expect(frame).toMatch(/alpha\/g\s+▲ growing\s+\S+\s+100\s+40\s+/)
  })

  it('selects with the arrows, opens the detail of the selected group with Enter (focusing it), and goes back with Esc', async () => {
    const source = new FakeSource()
    const {stdin} = start(source)
    await until(() => frameOf().includes('beta/g'), 'rows')
    expect(frameOf()).toMatch(/› alpha\/g/)
    stdin.write(KEYS.down)
    await until(() => /› beta\/g/.test(frameOf()), 'beta selected')
    stdin.write(KEYS.enter)
    await until(() => frameOf().includes('beta-worker-1'), 'the detail of beta')
    expect(frameOf()).toContain('OLDEST PENDING')
    expect(frameOf()).toMatch(/1700000000000-0\s+beta-worker-1\s+4/)
    expect(source.focuses).toContainEqual({topic: 'beta', group: 'g'})

    stdin.write(KEYS.escape)
    await until(() => frameOf().includes('TOPIC/GROUP'), 'the table again')
    const focusedBefore = source.focuses.length
    await until(() => source.focuses.length > focusedBefore + 2, 'more refreshes')
    expect(source.focuses.at(-1)).toBeNull()

    stdin.write(KEYS.up)
    await until(() => /› alpha\/g/.test(frameOf()), 'alpha selected')
    stdin.write(KEYS.enter)
    await until(() => frameOf().includes('alpha-worker-1'), 'the detail of alpha')
  })

  it('cycles the sort with s, pauses and resumes with p', async () => {
    const source = new FakeSource()
    const {stdin} = start(source)
    await until(() => frameOf().includes('sort: lag'), 'first frame')
    stdin.write('s')
    await until(() => frameOf().includes('sort: in-rate'), 'sort by in-rate')
    stdin.write('s')
    await until(() => frameOf().includes('sort: out-rate'), 'sort by out-rate')
    await until(() => frameOf().indexOf('beta/g') < frameOf().indexOf('alpha/g') && frameOf().includes('beta/g'), 'beta first by out-rate')

    stdin.write('p')
    await until(() => frameOf().includes('‖ paused'), 'paused')
    const paused = source.refreshes
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(source.refreshes).toBe(paused)
    stdin.write('p')
    await until(() => frameOf().includes('● live') && source.refreshes > paused + 2, 'resumed')
  })

  it('quits with q and stops polling (the timer is cleaned up)', async () => {
    const source = new FakeSource()
    const {stdin} = start(source)
    await until(() => source.refreshes > 2, 'a few refreshes')
    stdin.write('q')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const after = source.refreshes
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(source.refreshes).toBe(after)
  })

  it('keeps the last data on screen marked stale while the source fails, and goes live again when it recovers', async () => {
    const source = new FakeSource()
    start(source)
    await until(() => frameOf().includes('alpha/g'), 'rows')
    source.failing = true
    await until(() => frameOf().includes('⚠ reconnecting: connect ECONNREFUSED 127.0.0.1:6390'), 'reconnecting')
    expect(frameOf()).toContain('stale')
    expect(frameOf()).toContain('alpha/g')
    source.failing = false
    await until(() => frameOf().includes('● live'), 'live again')
    expect(frameOf()).not.toContain('reconnecting')
  })
})
