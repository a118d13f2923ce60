import {Redis} from 'ioredis'
const t0 = performance.now()
const r = new Redis({port: 6391})
const topics = []
let cursor = '0'
do {
  const [next, batch] = await r.call('SCAN', cursor, 'COUNT', 1000, 'TYPE', 'stream')
  cursor = next
  topics.push(...batch)
} while (cursor !== '0')
const t1 = performance.now()
const p = r.pipeline()
for (const t of topics) { p.call('XINFO', 'STREAM', t); p.call('XINFO', 'GROUPS', t); p.xlen(`{${t}}:dlq`) }
const res = await p.exec()
const t2 = performance.now()
const q = r.pipeline()
let n = 0
topics.forEach((t, i) => {
  const groups = res[i * 3 + 1][1]
  if (!Array.isArray(groups)) return
  for (const g of groups) { const name = g[1]; q.call('XINFO', 'CONSUMERS', t, name); q.xpending(t, name); q.xpending(t, name, '-', '+', 1); n++ }
})
await q.exec()
const t3 = performance.now()
console.log(JSON.stringify({topics: topics.length, groups: n, scanMs: Math.round(t1 - t0), firstMs: Math.round(t2 - t1), secondMs: Math.round(t3 - t2)}))
r.disconnect()
