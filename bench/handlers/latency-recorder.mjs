// Latency recorder for the `latency` scenario: publish → handler start, per message.
//
// Each message's payload carries `seq` (0, 1, 2, ...) and `t`, its send time as an epoch time in
// ms with µs decimals (performance.timeOrigin + performance.now() in the publisher; processes on
// one machine agree on it to a few µs). At handler start we take the same clock and store
// `now - t` at index `seq` of a preallocated Float64Array: one clock read, two property reads and
// one array store per message, nothing allocated. At exit the samples are written, synchronously,
// as JSON to the file named by QCTL_BENCH_LATENCY_FILE:
//   {"samples": [ms | null, ...], "duplicates": D, "outOfRange": R}
// (`null`: no message with that seq was seen). QCTL_BENCH_LATENCY_CAPACITY is the number of
// messages to expect (seq 0 .. capacity-1).
//
// Used three ways: as the handler module of `qctl work` (default export), and through `record`
// by bench/bare-latency.mjs and bench/bullmq-latency.mjs, so every contender measures alike.
import {writeFileSync} from 'node:fs'

const file = process.env.QCTL_BENCH_LATENCY_FILE
const capacity = Number(process.env.QCTL_BENCH_LATENCY_CAPACITY ?? 0)
const origin = performance.timeOrigin
const samples = new Float64Array(capacity).fill(Number.NaN)
let duplicates = 0
let outOfRange = 0

/** Record one message's latency from its payload ({seq, t}); `now` defaults to the current time. */
export function record(data, now = origin + performance.now()) {
  const seq = data.seq
  if (!(seq >= 0 && seq < capacity)) {
    outOfRange++
    return
  }
  if (samples[seq] === samples[seq]) duplicates++
  samples[seq] = now - data.t
}

/** qctl's handler: record at handler start. */
export default async function handle(message) {
  record(message.data, origin + performance.now())
}

if (file) {
  process.on('exit', () => {
    const list = Array.from(samples, (value) => (Number.isNaN(value) ? null : Math.round(value * 1e4) / 1e4))
    writeFileSync(file, JSON.stringify({samples: list, duplicates, outOfRange}))
  })
}
