import {describe, expect, it} from 'vitest'

import {escapeHelp, escapeLabelValue, formatExposition, formatValue, type MetricFamily} from '../../src/core/metrics/exposition.js'
import {Histogram} from '../../src/core/metrics/histogram.js'
import {parsePrometheusText} from '../helpers/prometheus-text.js'

describe('the Prometheus text format (exposition.ts)', () => {
  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd')
    expect(escapeLabelValue('orders.eu-1 {x}:y')).toBe('orders.eu-1 {x}:y')
    expect(escapeLabelValue('zürich ✓')).toBe('zürich ✓')
  })

  it('escapes backslash and line feed in HELP, keeping double quotes', () => {
    expect(escapeHelp('a \\ b\n"c"')).toBe('a \\\\ b\\n"c"')
  })

  it('writes +Inf, -Inf and NaN as the format spells them', () => {
    expect([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0, 1.5, -2].map(formatValue)).toEqual(['+Inf', '-Inf', 'NaN', '0', '1.5', '-2'])
  })

  it('writes HELP and TYPE before each family, samples one a line, and leaves out families without samples', () => {
    const families: MetricFamily[] = [
      {name: 'qctl_messages_processed_total', help: 'Processed.', type: 'counter', samples: [{labels: {topic: 'orders', group: 'billing'}, value: 3}]},
      {name: 'qctl_last_ack_timestamp_seconds', help: 'Absent.', type: 'gauge', samples: []},
      {name: 'qctl_up', help: 'Up.', type: 'gauge', samples: [{labels: {}, value: 1}]},
    ]
    expect(formatExposition(families)).toBe(
      [
        '# HELP qctl_messages_processed_total Processed.',
        '# TYPE qctl_messages_processed_total counter',
        'qctl_messages_processed_total{topic="orders",group="billing"} 3',
        '# HELP qctl_up Up.',
        '# TYPE qctl_up gauge',
        'qctl_up 1',
        '',
      ].join('\n'),
    )
    expect(formatExposition([])).toBe('')
  })

  it('round-trips hostile topic and group names through a strict parser', () => {
    const topic = 'orders "eu"\\west\nline two'
    const group = 'billing,le="x"}'
    const text = formatExposition([{name: 'qctl_stream_group_lag', help: 'Lag "of" a\\group\nsecond line', type: 'gauge', samples: [{labels: {topic, group}, value: 7}]}])
    expect(text.split('\n')).toHaveLength(4)
    const page = parsePrometheusText(text)
    expect(page.value('qctl_stream_group_lag', {topic, group})).toBe(7)
    expect(page.families.get('qctl_stream_group_lag')?.help).toBe('Lag "of" a\\group\nsecond line')
  })

  it('writes a histogram as cumulative _bucket{le} lines ending at +Inf, then _sum and _count', () => {
    const histogram = new Histogram([0.25, 1])
    // Binary fractions, so the sum is exact.
    for (const value of [0.125, 0.25, 0.5, 1, 7]) histogram.observe(value)
    const text = formatExposition([{name: 'qctl_handler_duration_seconds', help: 'Durations.', type: 'histogram', samples: [histogram.sample({topic: 't', group: 'g'})]}])
    expect(text).toBe(
      [
        '# HELP qctl_handler_duration_seconds Durations.',
        '# TYPE qctl_handler_duration_seconds histogram',
        // A value equal to a bound is in that bound's bucket (le: less than or equal).
        'qctl_handler_duration_seconds_bucket{topic="t",group="g",le="0.25"} 2',
        'qctl_handler_duration_seconds_bucket{topic="t",group="g",le="1"} 4',
        'qctl_handler_duration_seconds_bucket{topic="t",group="g",le="+Inf"} 5',
        'qctl_handler_duration_seconds_sum{topic="t",group="g"} 8.875',
        'qctl_handler_duration_seconds_count{topic="t",group="g"} 5',
        '',
      ].join('\n'),
    )
    expect(histogram.count).toBe(5)
    expect(parsePrometheusText(text).value('qctl_handler_duration_seconds_count', {topic: 't'})).toBe(5)
  })

  it('a histogram sample is a copy: later observations do not change a page being written', () => {
    const histogram = new Histogram([1])
    histogram.observe(0.5)
    const sample = histogram.sample({})
    histogram.observe(0.5)
    expect(Array.from(sample.counts)).toEqual([1, 0])
    expect(sample.sum).toBe(0.5)
  })

  it('refuses names the format does not allow (a bug in qctl, never user input)', () => {
    expect(() => formatExposition([{name: 'qctl-bad', help: '', type: 'gauge', samples: [{labels: {}, value: 1}]}])).toThrow(/invalid metric name/)
    expect(() => formatExposition([{name: 'qctl_ok', help: '', type: 'gauge', samples: [{labels: {'bad-name': 'x'}, value: 1}]}])).toThrow(/invalid label name/)
    expect(() => new Histogram([1, 1])).toThrow(/increase/)
  })
})
