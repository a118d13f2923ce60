import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {CLI, PROJECT_ROOT, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {RedisServer} from '../helpers/redis-server.js'
import {shellQuote, TmuxSession} from '../helpers/tmux.js'

// `qctl top`'s live screen in a real pseudo-terminal (tmux), keys pressed the way a user does.

const RECORDER = join(PROJECT_ROOT, 'test/fixtures/work/recorder.mjs')
const BARS_ABOVE_LOWEST = /[▂▃▄▅▆▇█]/

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let server: RedisServer
let redis: Redis
let dir: string
let session: TmuxSession | undefined
let children: RunningCli[] = []

beforeEach(async () => {
  server = await RedisServer.start()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-top-screen-'))
})

afterEach(async () => {
  await session?.kill()
  session = undefined
  for (const running of children) {
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL')
    await running.done
  }
  children = []
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

/** A CLI subprocess (publisher, worker) that afterEach kills if the test left it running. */
const background = (args: string[]): RunningCli => {
  const running = startCli(args, {timeoutMs: 60_000})
  children.push(running)
  return running
}

interface Top {
  session: TmuxSession
  /** The exit code of `qctl top`, once it has exited (fails after 10s). */
  exitCode(): Promise<number>
}

const BEFORE = 'qctl-top-test: before top'
const AFTER = 'qctl-top-test: top exited'

/**
 * `qctl top ARGS -u URL --interval 300ms` in a fresh cols x rows terminal. A line is printed before
 * it (to see the normal screen come back) and its exit code is written to a file; the shell then
 * stays, so the pane can be read after top exits.
 */
async function startTop(name: string, args: string[] = [], size = {cols: 200, rows: 50}): Promise<Top> {
  const exitFile = join(dir, `${name}.exit`)
  const top = [process.execPath, CLI, 'top', ...args, '-u', server.url, '--interval', '300ms'].map(shellQuote).join(' ')
  const command = `echo ${shellQuote(BEFORE)}; ${top}; echo $? > ${shellQuote(exitFile)}; echo ${shellQuote(AFTER)}; exec sleep 600`
  session = await TmuxSession.start(`${name}-${process.pid}`, command, size)
  const started = session
  return {
    session: started,
    async exitCode() {
      let text = ''
      try {
        await waitFor(async () => {
          text = await readFile(exitFile, 'utf8').catch(() => '')
          return text.endsWith('\n')
        }, 10_000)
      } catch {
        throw new Error(`qctl top did not exit in 10s; the screen was:\n${await started.capture().catch(() => '?')}`)
      }
      return Number(text.trim())
    },
  }
}

const linesOf = (screen: string): string[] => screen.split('\n')

interface TableRow {
  label: string
  /** The row carries the selection marker (`›`) in front of it. */
  marked: boolean
  line: string
  /** A right-aligned figure: the value that ends where its column title ends. */
  figure(title: string): string
  /** A left-aligned sparkline: from its title up to the next column's title (or the line's end). */
  spark(title: string, next?: string): string
}

/** The rows of the table on screen, read by the positions of the header's titles. */
function tableOf(screen: string): {head: string; rows: TableRow[]} | undefined {
  const lines = linesOf(screen)
  const head = lines.find((line) => /^[ ›]*TOPIC\/GROUP /.test(line))
  if (head === undefined) return undefined
  // Rows share the header's indent (room for the selection marker), then the label.
  const indent = head.indexOf('TOPIC/GROUP')
  const at = (title: string): number => {
    const index = head.indexOf(title)
    if (index === -1) throw new Error(`no column ${title} in:\n${head}`)
    return index
  }
  const rows = lines
    .slice(lines.indexOf(head) + 1)
    .filter((line) => /^[ ›]*$/.test(line.slice(0, indent)) && /^\S+ {2}/.test(line.slice(indent)))
    .map((line): TableRow => ({
      label: line.slice(indent).split(' ')[0]!,
      marked: line.slice(0, indent).includes('›'),
      line,
      figure: (title) => line.slice(0, at(` ${title}`) + 1 + title.length).split(' ').at(-1) ?? '',
      spark: (title, next) => line.slice(at(title), next === undefined ? undefined : at(next)),
    }))
  return {head, rows}
}

/** The table row of `label`, if on screen. */
const rowOf = (screen: string, label: string): TableRow | undefined => tableOf(screen)?.rows.find((row) => row.label === label)

/**
 * `label` is the selected row, where the build marks the selection with `›` (colour and inverse
 * video do not survive a text capture; Enter below proves the selection either way).
 */
function expectSelected(screen: string, label: string): void {
  const table = tableOf(screen)!
  if (!table.head.startsWith(' ')) return
  expect(table.rows.filter((row) => row.marked).map((row) => row.label), screen).toEqual([label])
}

/** The table shows `label` selected (or shows it at all, where the build has no marker). */
function isSelected(screen: string, label: string): boolean {
  const table = tableOf(screen)
  if (table === undefined || !table.rows.some((row) => row.label === label)) return false
  return !table.head.startsWith(' ') || table.rows.find((row) => row.marked)?.label === label
}

/** 0, 1.5, 1,234, 12.3k, 4.56M as a number; NaN for '-' (unknown). */
const rateOf = (text: string): number => {
  const match = /^([\d,.]+)([kM]?)$/.exec(text)
  if (match === null) return Number.NaN
  return Number(match[1]!.replaceAll(',', '')) * (match[2] === 'k' ? 1000 : match[2] === 'M' ? 1_000_000 : 1)
}

/** NDJSON lines the recorder handler sleeps `sleepMs` on. */
const lines = (count: number, sleepMs: number): string => `${JSON.stringify({sleepMs})}\n`.repeat(count)

describe('qctl top on a terminal', () => {
  it('shows a topic being published and worked: its row, non-zero rates and a sparkline; q exits 0 and restores the screen', async () => {
    await redis.xgroup('CREATE', 'flow', 'workers', '$', 'MKSTREAM')
    const top = await startTop('flow')
    await top.session.waitForScreen((screen) => screen.includes('● live') && rowOf(screen, 'flow/workers') !== undefined, 10_000, 'the flow/workers row')

    // A real publisher fed at a steady ~1,000 lines/s, and a real worker slower than that (4 at a
    // time, 5ms each), so both rates stay above zero while the test watches.
    const publisher = background(['publish', 'flow', '-', '--ndjson', '-u', server.url])
    publisher.child.stdin.write(lines(300, 5))
    let feeding = true
    const feeder = (async () => {
      while (feeding) {
        publisher.child.stdin.write(lines(25, 5))
        await pause(25)
      }
      publisher.child.stdin.end()
    })()
    try {
      await waitFor(async () => (await redis.xlen('flow')) >= 300, 10_000, 'the first published lines')
      const worker = background(['work', RECORDER, '-t', 'flow', '-g', 'workers', '--concurrency', '4', '-u', server.url])

      const screen = await top.session.waitForScreen(
        (text) => {
          const row = rowOf(text, 'flow/workers')
          if (row === undefined) return false
          return rateOf(row.figure('IN/s')) > 0 && rateOf(row.figure('OUT/s')) > 0 && BARS_ABOVE_LOWEST.test(row.spark('IN (1m)', 'OUT (1m, same scale)'))
        },
        15_000,
        'non-zero IN/s and OUT/s and a sparkline on flow/workers',
      )
      const row = rowOf(screen, 'flow/workers')!
      expect(row.spark('IN (1m)', 'OUT (1m, same scale)')).toMatch(/^[▁▂▃▄▅▆▇█ ]+$/)
      expect(rateOf(row.figure('DEPTH'))).toBeGreaterThan(0)
      expect(screen).toMatch(/^qctl top {2}redis:\/\/127\.0\.0\.1:\d+ {2}(redis|valkey) \d\S* {2}every 300ms {2}up \S+/m)
      expect(screen).toContain('↑/↓ select  Enter detail  s sort  p pause  q quit')

      await top.session.sendKeys('q')
      expect(await top.exitCode()).toBe(0)
      // The alternate screen is gone: what was on the terminal before top is back.
      const after = await top.session.waitForScreen((text) => text.includes(AFTER), 5_000, 'the shell after top')
      expect(after).toContain(BEFORE)
      expect(after).not.toContain('TOPIC/GROUP')
      expect(after).not.toContain('● live')

      feeding = false
      await feeder
      const published = await publisher.done
      expect(published.code).toBe(0)
      expect(published.stdout).toMatch(/^Published [\d,]+ messages to flow/)
      // The worker has a backlog by design: stop it the way a user does (it finishes what it runs).
      worker.child.kill('SIGTERM')
      const worked = await worker.done
      expect(worked.code).toBe(0)
      expect(worked.stdout).toMatch(/processed [\d,]+/)
      expect(await redis.xlen('flow')).toBeGreaterThan(300)
    } finally {
      feeding = false
      await feeder
    }
  }, 40_000)

  it('Enter opens the selected group (consumers, oldest pending entries), Esc goes back, Down/Up move the selection', async () => {
    const ids: string[] = []
    for (let i = 0; i < 40; i++) ids.push((await redis.xadd('orders', '*', 'data', JSON.stringify({i}))) as string)
    // alpha: 3 read by hand and still pending (lag 37); beta: everything done by a running worker (lag 0).
    await redis.xgroup('CREATE', 'orders', 'alpha', '0')
    await redis.xreadgroup('GROUP', 'alpha', 'hand-reader', 'COUNT', 3, 'STREAMS', 'orders', '>')
    await redis.xgroup('CREATE', 'orders', 'beta', '0')
    const worker = background(['work', RECORDER, '-t', 'orders', '-g', 'beta', '--consumer', 'worker-x', '-u', server.url])
    await waitFor(async () => {
      const groups = (await redis.call('XINFO', 'GROUPS', 'orders')) as unknown[][]
      const beta = groups.find((group) => group[1] === 'beta') ?? []
      return beta[beta.indexOf('lag') + 1] === 0 && beta[beta.indexOf('pending') + 1] === 0
    }, 10_000, 'the worker to finish beta')

    const top = await startTop('detail')
    const label = (text: string): string | undefined => linesOf(text).find((line) => /^orders\/(alpha|beta)$/.test(line))
    // Sorted by lag: alpha first (selected), then beta.
    const table = await top.session.waitForScreen((text) => rowOf(text, 'orders/alpha') !== undefined && rowOf(text, 'orders/beta') !== undefined, 10_000, 'both rows')
    expect(tableOf(table)!.rows.map((row) => row.label)).toEqual(['orders/alpha', 'orders/beta'])
    expectSelected(table, 'orders/alpha')
    expect(rowOf(table, 'orders/alpha')!.figure('LAG')).toBe('37')
    expect(rowOf(table, 'orders/alpha')!.figure('PENDING')).toBe('3')

    await top.session.sendKeys('Enter')
    const alpha = await top.session.waitForScreen((text) => label(text) === 'orders/alpha' && text.includes('DELIVERIES'), 10_000, 'the detail of alpha')
    expect(alpha).toMatch(/^CONSUMER +PENDING +IDLE +INACTIVE$/m)
    expect(alpha).toMatch(/^hand-reader +3 /m)
    expect(alpha).toMatch(/^OLDEST PENDING +CONSUMER +DELIVERIES +IDLE +AGE$/m)
    expect(alpha).toMatch(new RegExp(`^${ids[0]} +hand-reader +1 `, 'm'))
    expect(alpha).toContain('Esc back  p pause  q quit')
    expect(alpha).not.toContain('TOPIC/GROUP')

    await top.session.sendKeys('Escape')
    await top.session.waitForScreen((text) => text.includes('TOPIC/GROUP') && label(text) === undefined, 10_000, 'the table again')

    await top.session.sendKeys('Down')
    expectSelected(await top.session.waitForScreen((text) => isSelected(text, 'orders/beta'), 10_000, 'orders/beta selected'), 'orders/beta')
    await top.session.sendKeys('Enter')
    const beta = await top.session.waitForScreen((text) => label(text) === 'orders/beta' && text.includes('OLDEST PENDING'), 10_000, 'the detail of beta')
    expect(beta).toMatch(/^CONSUMER +PENDING +IDLE +INACTIVE$/m)
    expect(beta).toMatch(/^worker-x +0 /m)
    expect(beta).toContain('nothing pending')

    await top.session.sendKeys('Escape', 'Up')
    expectSelected(await top.session.waitForScreen((text) => isSelected(text, 'orders/alpha'), 10_000, 'orders/alpha selected'), 'orders/alpha')
    await top.session.sendKeys('Enter')
    await top.session.waitForScreen((text) => label(text) === 'orders/alpha' && text.includes('hand-reader'), 10_000, 'the detail of alpha again')

    await top.session.sendKeys('Escape', 'q')
    expect(await top.exitCode()).toBe(0)
    worker.child.kill('SIGTERM')
    expect((await worker.done).code).toBe(0)
  }, 40_000)

  it('s cycles the sort, p pauses and resumes, Ctrl-C exits 0', async () => {
    await redis.xadd('keys.topic', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'keys.topic', 'g', '0')
    const top = await startTop('keys')
    await top.session.waitForScreen((text) => text.includes('● live  sort: lag  rows: 1') && rowOf(text, 'keys.topic/g') !== undefined, 10_000, 'the live screen')

    for (const sort of ['in-rate', 'out-rate', 'name', 'lag']) {
      await top.session.sendKeys('s')
      await top.session.waitForScreen((text) => text.includes(`sort: ${sort}  rows: 1`), 10_000, `sort: ${sort}`)
    }

    await top.session.sendKeys('p')
    const paused = await top.session.waitForScreen((text) => text.includes('‖ paused  sort: lag'), 10_000, 'paused')
    expect(paused).toContain('p resume  q quit')
    expect(paused).not.toContain('● live')
    await top.session.sendKeys('p')
    await top.session.waitForScreen((text) => text.includes('● live  sort: lag') && text.includes('p pause  q quit'), 10_000, 'live again')

    await top.session.sendKeys('C-c')
    expect(await top.exitCode()).toBe(0)
    const after = await top.session.waitForScreen((text) => text.includes(AFTER), 5_000, 'the shell after top')
    expect(after).not.toContain('TOPIC/GROUP')
  }, 30_000)

  it('says it is reconnecting and the data is stale while Redis is down, and goes live again when it is back', async () => {
    await redis.xadd('resilient', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'resilient', 'g', '0')
    const top = await startTop('reconnect')
    await top.session.waitForScreen((text) => text.includes('● live') && rowOf(text, 'resilient/g') !== undefined, 10_000, 'the live screen')

    redis.disconnect()
    await server.kill()
    const stale = await top.session.waitForScreen(
      (text) => /⚠ reconnecting: .*\(data from \S+ ago, stale\)/.test(text) && rowOf(text, 'resilient/g') !== undefined,
      10_000,
      'reconnecting, with the last data still shown',
    )
    expect(stale).not.toContain('● live')
    // qctl's own one-line words, as every other command says it, not ioredis's raw text.
    expect(stale).toMatch(/⚠ reconnecting: cannot connect to 127\.0\.0\.1:\d+: connection refused/)
    expect(stale).not.toContain('ECONNREFUSED')

    await server.restart()
    redis = await server.client()
    // The server came back empty (no persistence): publish again and watch the row come back.
    await redis.xadd('resilient', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'resilient', 'g', '0')
    const live = await top.session.waitForScreen(
      (text) => text.includes('● live') && !text.includes('reconnecting') && rowOf(text, 'resilient/g') !== undefined,
      10_000,
      'live again',
    )
    expect(live).not.toContain('stale')

    await top.session.sendKeys('q')
    expect(await top.exitCode()).toBe(0)
  }, 40_000)

  it('--once (and --json) on a terminal print one snapshot on the normal screen and exit 0', async () => {
    await redis.xadd('once.topic', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'once.topic', 'g', '0')
    const once = await startTop('once', ['--once'])
    expect(await once.exitCode()).toBe(0)
    const printed = await once.session.waitForScreen((text) => text.includes(AFTER), 5_000, 'the shell after top --once')
    expect(printed).toMatch(new RegExp(`${BEFORE}\\nRates measured over \\d+ms:\\n`))
    expect(printed).toMatch(/│ once\.topic\/g +│/)
    expect(printed).not.toContain('● live')
    await once.session.kill()

    const json = await startTop('once-json', ['--json'])
    expect(await json.exitCode()).toBe(0)
    const document = await json.session.waitForScreen((text) => text.includes(AFTER), 5_000, 'the shell after top --json')
    expect(document).toContain('"topic": "once.topic"')
    expect(document).not.toContain('● live')
  }, 30_000)

  // After the terminal narrows, a stale copy of the wide header once stayed above the new frame (the
  // terminal re-wraps the old lines onto more rows than Ink erases); run-top clears the screen on resize.
  it('redraws cleanly when the terminal narrows: one header, the columns of the new width', async () => {
    await redis.xadd('rs', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'rs', 'g', '0')
    const top = await startTop('resize', [], {cols: 200, rows: 30})
    await top.session.waitForScreen((text) => text.includes('IN (1m)') && rowOf(text, 'rs/g') !== undefined, 10_000, 'the wide screen')
    await top.session.resize(90, 30)
    await top.session.waitForScreen((text) => !text.includes('IN (1m)') && rowOf(text, 'rs/g') !== undefined, 10_000, 'the narrow screen')
    await pause(1000)
    const screen = await top.session.capture({joinWrapped: true})
    expect(linesOf(screen).filter((line) => line.startsWith('qctl top ')), screen).toHaveLength(1)
    expect(linesOf(screen).filter((line) => line.startsWith('● live ')), screen).toHaveLength(1)
    for (const line of linesOf(screen)) expect([...line].length, line).toBeLessThanOrEqual(90)

    await top.session.sendKeys('q')
    expect(await top.exitCode()).toBe(0)
  }, 30_000)

  it('fits a narrow terminal: the sparklines and least essential columns go, no line is wider than the terminal', async () => {
    await redis.xadd('narrow.t', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'narrow.t', 'g', '0')
    const top = await startTop('narrow', [], {cols: 100, rows: 30})
    await top.session.waitForScreen((text) => text.includes('● live') && rowOf(text, 'narrow.t/g') !== undefined, 10_000, 'the narrow screen')
    // Wait for a refresh or two more, then read the pane with wrapped lines joined.
    await pause(700)
    const screen = await top.session.capture({joinWrapped: true})
    expect(screen).toMatch(/^qctl top {2}redis:\/\/127\.0\.0\.1:\d+/m)
    expect(screen).toMatch(/^[ ›]*TOPIC\/GROUP +TREND +DEPTH +IN\/s +OUT\/s +LAG/m)
    expect(screen).not.toContain('IN (1m)')
    expect(screen).not.toContain('OUT (1m)')
    expect(rowOf(screen, 'narrow.t/g')!.figure('LAG')).toBe('1')
    for (const line of linesOf(screen)) expect([...line].length, line).toBeLessThanOrEqual(100)

    await top.session.sendKeys('q')
    expect(await top.exitCode()).toBe(0)
  }, 30_000)

  it('marks a stalled group, says Enter on a topic without groups has nothing to open, and shows hostile names escaped', async () => {
    for (let i = 0; i < 5; i++) await redis.xadd('stall.t', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'stall.t', 'nobody', '0')
    await redis.xadd('plain.t', '*', 'data', '{}')
    await redis.xadd('bad\u001b[31m.t', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'bad\u001b[31m.t', 'g\u001b]0;pwned\u0007', '0')
    const top = await startTop('signals', [], {cols: 200, rows: 30})
    const screen = await top.session.waitForScreen((text) => rowOf(text, 'stall.t/nobody')?.line.includes('■') === true && rowOf(text, 'plain.t') !== undefined, 10_000, 'the stalled row')
    expect(rowOf(screen, 'stall.t/nobody')!.line).toMatch(/stall\.t\/nobody +■ stalled +5 /)
    // The escape is shown, not obeyed: the name reads as it is stored.
    expect(screen).toContain('bad\\u001b[31m.t/g\\u001b]0;pwned\\u0007')

    // Sorted by lag: stall.t/nobody (5), the hostile topic's group (1), plain.t (no group) last.
    await top.session.sendKeys('Down', 'Down')
    await top.session.waitForScreen((text) => isSelected(text, 'plain.t'), 10_000, 'plain.t selected')
    await top.session.sendKeys('Enter')
    const notice = await top.session.waitForScreen((text) => text.includes('plain.t has no consumer group: nothing to open'), 10_000, 'the notice')
    expect(notice).toContain('TOPIC/GROUP')
    await top.session.sendKeys('q')
    expect(await top.exitCode()).toBe(0)
  }, 30_000)

  it('never cuts the TOPIC/GROUP column while sparklines show: they go first', async () => {
    const topic = 'a-rather-long-topic-name-for-tenant-0042'
    await redis.xadd(topic, '*', 'data', '{}')
    await redis.xgroup('CREATE', topic, 'g', '0')
    const top = await startTop('long-name', [], {cols: 170, rows: 20})
    const screen = await top.session.waitForScreen((text) => text.includes('● live') && (tableOf(text)?.rows.length ?? 0) > 0, 10_000, 'the table')
    expect(rowOf(screen, `${topic}/g`), screen).toBeDefined()
    expect(screen).not.toContain('OUT (1m, same scale)')
    await top.session.sendKeys('q')
    expect(await top.exitCode()).toBe(0)
  }, 30_000)

  it('marks entries waiting out a retry backoff in the detail view ("retry in"), AGE kept whole at 80 columns', async () => {
    await redis.xgroup('CREATE', 'retry.t', 'g', '0', 'MKSTREAM')
    await redis.xadd('retry.t', '*', 'data', JSON.stringify({fail: 'always'}))
    const worker = background(['work', RECORDER, '-t', 'retry.t', '-g', 'g', '--backoff', 'fixed', '--backoff-delay', '5m', '--consumer', 'a-worker-with-a-long-consumer-name', '-u', server.url])
    await waitFor(async () => {
      const pending = (await redis.xpending('retry.t', 'g', '-', '+', 1)) as Array<[string, string]>
      return pending[0]?.[1] === 'qctl:parked'
    }, 15_000, 'the failed entry to be parked for its retry')
    const top = await startTop('retry', [], {cols: 80, rows: 24})
    await top.session.waitForScreen((text) => rowOf(text, 'retry.t/g') !== undefined, 10_000, 'the row')
    await top.session.sendKeys('Enter')
    const detail = await top.session.waitForScreen((text) => /retry in \d+m\d+s/.test(text), 10_000, 'the retry mark')
    expect(detail).toMatch(/^OLDEST PENDING +CONSUMER +DELIVERIES +IDLE +AGE$/m)
    expect(detail).toMatch(/^\d+-\d+ +qctl:par\S* +1 +\S+ +\S+ +retry in \d+m\d+s$/m)
    for (const line of linesOf(detail)) expect([...line].length, line).toBeLessThanOrEqual(80)
    await top.session.sendKeys('Escape', 'q')
    expect(await top.exitCode()).toBe(0)
    worker.child.kill('SIGTERM')
    expect((await worker.done).code).toBe(0)
  }, 40_000)

  it('refreshes less often than --interval when a refresh costs more than the CPU budget over it, says so in the header, and keys still work', async () => {
    // 2,000 topics, a group each with one pending entry: a refresh costs far more than the 12 ms of
    // CPU that the budget (4% of the 300 ms interval) allows on any machine, so it is stretched.
    const TOPICS = 2000
    const name = (i: number): string => `tenant.${String(i).padStart(4, '0')}`
    const pipeline = redis.pipeline()
    for (let i = 0; i < TOPICS; i++) {
      pipeline.xadd(name(i), '*', 'data', '{}')
      pipeline.xgroup('CREATE', name(i), 'g', '0')
      pipeline.xreadgroup('GROUP', 'g', 'hand-reader', 'COUNT', 1, 'STREAMS', name(i), '>')
    }
    await pipeline.exec()

    const top = await startTop('budget')
    const stretched = await top.session.waitForScreen((text) => /every \S+ \(CPU budget; --interval 300ms\)/.test(text) && text.includes(`rows: ${TOPICS}`), 30_000, 'the stretched interval in the header')
    expect(stretched).toMatch(/^qctl top {2}redis:\/\/127\.0\.0\.1:\d+ {2}(redis|valkey) \d\S* {2}every \d[\d.]*(ms|s) \(CPU budget; --interval 300ms\) {2}up \S+/m)
    expect(stretched).toContain('● live')

    // Keys act on the last snapshot between refreshes: sort by name, select the second row, open it.
    for (const sort of ['in-rate', 'out-rate', 'name']) {
      await top.session.sendKeys('s')
      await top.session.waitForScreen((text) => text.includes(`sort: ${sort}  rows: ${TOPICS}`), 10_000, `sort: ${sort}`)
    }
    const byName = await top.session.waitForScreen((text) => tableOf(text)?.rows[0]?.label === `${name(0)}/g`, 10_000, 'rows sorted by name')
    expect(tableOf(byName)!.rows.slice(0, 3).map((row) => row.label)).toEqual([0, 1, 2].map((i) => `${name(i)}/g`))
    await top.session.sendKeys('Down')
    await top.session.waitForScreen((text) => isSelected(text, `${name(1)}/g`), 10_000, `${name(1)}/g selected`)
    await top.session.sendKeys('Enter')
    const detail = await top.session.waitForScreen((text) => text.includes(`${name(1)}/g`) && text.includes('DELIVERIES'), 30_000, 'the detail of the selected group')
    expect(detail).toMatch(/^hand-reader +1 /m)
    await top.session.sendKeys('Escape')
    await top.session.waitForScreen((text) => text.includes('TOPIC/GROUP'), 10_000, 'the table again')

    await top.session.sendKeys('q')
    expect(await top.exitCode()).toBe(0)
  }, 60_000)
})
