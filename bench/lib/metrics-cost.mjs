// What `qctl work --metrics-port` adds to each message, measured directly: the dispatcher's two clock
// reads around the handler call and one observation in the handler-duration histogram (the worker's
// only per-message metrics work: its counters are read from the run's summary at scrape time). The
// drain rates of qctl with and without metrics vary round to round by more than the 3% being judged
// (issue 19), so the cost is also taken here, where it can be resolved, and set against qctl's own
// time per message in the same run.
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {summary} from './stats.mjs'

/** Median nanoseconds per observation (2 clock reads + observe), over `runs` runs of `n`. */
export async function instrumentationNs(repoRoot, {runs = 5, n = 2_000_000} = {}) {
  const {Histogram} = await import(pathToFileURL(join(repoRoot, 'dist/core/metrics/histogram.js')).href)
  const histogram = new Histogram()
  const perRun = []
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      const calledAt = performance.now()
      histogram.observe((performance.now() - calledAt) / 1000)
    }
    perRun.push(Number(process.hrtime.bigint() - started) / n)
  }
  if (histogram.count !== runs * n) throw new Error(`metrics cost: ${histogram.count} observations, expected ${runs * n}`)
  return summary(perRun).median
}
