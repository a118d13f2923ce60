import {renderToString} from 'ink'
import {render} from 'ink-testing-library'
import {describe, expect, it} from 'vitest'

import {GroupDetail} from '../../../src/ui/components/GroupDetail.js'
import {Header, type HeaderProps} from '../../../src/ui/components/Header.js'
import {KeyHelp} from '../../../src/ui/components/KeyHelp.js'
import {RateTable, SELECTION_MARK_WIDTH, type RateTableProps} from '../../../src/ui/components/RateTable.js'
import {appendHistory} from '../../../src/format/top-model/history.js'
import {COLUMNS, headLine, tableLayout} from '../../../src/format/top-model/layout.js'
import {row} from './fixtures.js'

// eslint-disable-next-line no-control-regex
const plain = (frame: string | undefined): string => (frame ?? '').replace(/\u001B\[[0-9;]*m/g, '')

describe('Header', () => {
  const props: HeaderProps = {
    url: 'redis://app:****@cache:6379',
    server: 'redis 7.0.15',
    intervalMs: 1000,
    uptimeMs: 192_000,
    paused: false,
    sort: 'lag',
    rowCount: 3,
    stale: null,
    colour: false,
  }

  it('shows where, how often, since when, and that it is live', () => {
    const frame = plain(render(<Header {...props} />).lastFrame())
    expect(frame).toContain('qctl top  redis://app:****@cache:6379  redis 7.0.15  every 1s  up 3m12s')
    expect(frame).toContain('● live  sort: lag  rows: 3')
  })

  it('says so when the CPU budget stretched the interval, and what was asked', () => {
    expect(plain(render(<Header {...props} periodMs={14_800} />).lastFrame())).toContain('redis 7.0.15  every 14s (CPU budget; --interval 1s)  up 3m12s')
    expect(plain(render(<Header {...props} periodMs={2500} />).lastFrame())).toContain('every 2.5s (CPU budget; --interval 1s)')
    expect(plain(render(<Header {...props} intervalMs={100} periodMs={400} />).lastFrame())).toContain('every 400ms (CPU budget; --interval 100ms)')
    // Not stretched, or by less than the figure shows: the interval alone.
    expect(plain(render(<Header {...props} periodMs={1000} />).lastFrame())).toContain('redis 7.0.15  every 1s  up')
    expect(plain(render(<Header {...props} periodMs={1020} />).lastFrame())).toContain('redis 7.0.15  every 1s  up')
  })

  it('says paused, or reconnecting with the age of the stale data', () => {
    expect(plain(render(<Header {...props} paused sort="in" />).lastFrame())).toContain('‖ paused  sort: in-rate')
    const stale = plain(render(<Header {...props} stale={{ageMs: 12_000, message: 'connect ECONNREFUSED 127.0.0.1:6379'}} />).lastFrame())
    expect(stale).toContain('⚠ reconnecting: connect ECONNREFUSED 127.0.0.1:6379 (data from 12s ago, stale)')
    expect(stale).not.toContain('● live')
  })
})

describe('RateTable', () => {
  const rows = [
    row('orders', {group: 'billing', trend: 'growing', depth: 5200, inRate: 830, outRate: 410, lag: 3100, lagGrowing: true, pending: 64, oldestPendingAgeMs: 4000, consumers: 2, activeConsumers: 2}),
    row('orders', {group: 'ship', trend: 'draining', depth: 5200, inRate: 830, outRate: 1900, lag: 120, pending: 16, consumers: 4, activeConsumers: 4}),
    row('audit', {group: null, trend: 'idle', depth: 12}),
  ]
  const base: RateTableProps = {rows, ...tableLayout(100 - SELECTION_MARK_WIDTH), selected: 0, histories: new Map(), samplesPerPoint: 1, height: 10, stale: false, colour: false}

  it('renders one line per row under the column titles, marks carrying the meaning', () => {
    const lines = plain(render(<RateTable {...base} />).lastFrame()).split('\n')
    expect(lines[0]).toMatch(/^ {2}TOPIC\/GROUP\s+TREND\s+DEPTH\s+IN\/s\s+OUT\/s\s+LAG\s+PENDING\s+OLDEST\s+CONS\s+DLQ$/)
    expect(lines[1]).toMatch(/^› orders\/billing\s+▲ growing\s+5,200\s+830\s+410\s+3,100↑\s+64\s+4s\s+2\/2\s+0$/)
    expect(lines[2]).toMatch(/^ {2}orders\/ship\s+▼ draining\s+5,200\s+830\s+1,900\s+120\s+16\s+-\s+4\/4\s+0$/)
    expect(lines[3]).toMatch(/^ {2}audit\s+· idle\s+12\s+0\s+-\s+-\s+-\s+-\s+-\s+0$/)
  })

  it('puts every figure right under its title (rows exactly as wide as the header)', () => {
    for (const width of [100, 140, 200]) {
      const layout = tableLayout(width - SELECTION_MARK_WIDTH)
      const frame = plain(renderToString(<RateTable {...base} {...layout} />, {columns: width}))
      const [head, first] = frame.split('\n')
      const end = (line: string, text: string): number => line.indexOf(text) + text.length
      expect(end(first!, '5,200'), frame).toBe(end(head!, 'DEPTH'))
      expect(end(first!, '3,100↑'), frame).toBe(end(head!, 'LAG'))
      expect(first!.indexOf('▲ growing'), frame).toBe(head!.indexOf('TREND'))
    }
  })

  it('drops columns on a narrow terminal, sparklines first, and fits every line into the width', () => {
    // PARTS only while a partitioned topic is on screen, SCHEDULED only while a topic holds scheduled messages.
    expect(tableLayout(250).columns).toEqual(COLUMNS.map((column) => column.key).filter((key) => key !== 'parts' && key !== 'scheduled'))
    expect(tableLayout(270, 12, true, true).columns).toHaveLength(COLUMNS.length)
    expect(tableLayout(270, 12, false, true).columns).toContain('scheduled')
    expect(tableLayout(250, 12, true).columns).not.toContain('scheduled')
    expect(tableLayout(250).nameWidth).toBe(48)
    for (let width = 60; width <= 250; width += 5) {
      const {columns, nameWidth} = tableLayout(width)
      expect(headLine(columns, nameWidth).length).toBeLessThanOrEqual(width)
      expect(columns).toEqual(expect.arrayContaining(['name', 'trend', 'in', 'out', 'lag', 'dlq']))
    }
    expect(tableLayout(140).columns).not.toContain('outSpark')
    expect(tableLayout(140).columns).toContain('age')
  })

  it('draws sparklines from the histories when they fit', () => {
    let histories = appendHistory(new Map(), [rows[0]!], 60)
    for (const inRate of [0, 100, 400, 830]) histories = appendHistory(histories, [{...rows[0]!, inRate}], 60)
    const frame = plain(renderToString(<RateTable {...base} {...tableLayout(200)} histories={histories} />, {columns: 200}))
    expect(frame).toContain('IN (1m)')
    expect(frame).toContain('▁▂▄█')
  })

  it('scrolls to keep the selection visible and says which rows are shown', () => {
    const many = Array.from({length: 30}, (_, index) => row(`topic.${String(index).padStart(2, '0')}`))
    const frame = plain(render(<RateTable {...base} rows={many} selected={20} height={5} />).lastFrame())
    expect(frame).toContain('› topic.20/g')
    expect(frame).not.toContain('topic.00/g')
    expect(frame).toContain('rows 19-23 of 30')
  })

  it('says so when there is nothing to show', () => {
    expect(plain(render(<RateTable {...base} rows={[]} />).lastFrame())).toContain('No streams found (yet)')
  })
})

describe('GroupDetail', () => {
  const selected = row('orders', {group: 'billing', trend: 'growing', inRate: 830, outRate: null, lag: 3100, pending: 2})

  it('lists consumers and the oldest pending entries with their delivery counts', () => {
    const detail = {
      topic: 'orders',
      group: 'billing',
      consumers: [{name: 'host-1:4242', pending: 2, idleMs: 1500, inactiveMs: null}],
      oldestPending: [{id: '1700000000000-0', consumer: 'host-1:4242', idleMs: 31_000, deliveries: 7, publishedAt: new Date(1_700_000_000_000).toISOString()}],
      retryInMs: new Map(),
      busiestKeys: [],
    }
    const frame = plain(render(<GroupDetail row={selected} detail={detail} height={20} width={100} now={1_700_000_090_000} />).lastFrame())
    expect(frame).toContain('orders/billing')
    expect(frame).toContain('▲ growing  in 830/s  out n/a  lag 3,100  pending 2')
    expect(frame).toMatch(/host-1:4242\s+2\s+1s\s+-/)
    expect(frame).toMatch(/1700000000000-0\s+host-1:4242\s+7\s+31s\s+1m30s/)
  })

  it('says it is reading until the detail arrives, and says when nothing is pending', () => {
    expect(plain(render(<GroupDetail row={selected} detail={null} height={20} width={100} now={0} />).lastFrame())).toContain('reading consumers and pending entries…')
    const empty = plain(render(<GroupDetail row={selected} detail={{topic: 'orders', group: 'billing', consumers: [], oldestPending: [], retryInMs: new Map(), busiestKeys: []}} height={20} width={100} now={0} />).lastFrame())
    expect(empty).toContain('no consumers')
    expect(empty).toContain('nothing pending')
  })
})

describe('KeyHelp', () => {
  it('lists the keys of each view', () => {
    expect(plain(render(<KeyHelp view="table" paused={false} />).lastFrame())).toBe('↑/↓ select  Enter detail  s sort  p pause  q quit')
    expect(plain(render(<KeyHelp view="detail" paused />).lastFrame())).toBe('Esc back  p resume  q quit')
  })
})
