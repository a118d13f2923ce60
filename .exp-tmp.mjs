import {Redis} from 'ioredis'
const mode = process.argv[2]
const chunk = Number(process.argv[3] ?? 1e9)
const r = new Redis({port: 6391})
const c0 = process.cpuUsage(); const t0 = performance.now()
const topics = []
let cursor = '0'
do { const [next, batch] = await r.call('SCAN', cursor, 'COUNT', 1000, 'TYPE', 'stream'); cursor = next; topics.push(...batch) } while (cursor !== '0')
let groups = 0
for (let start = 0; start < topics.length; start += chunk) {
  const part = topics.slice(start, start + chunk)
  const p = r.pipeline()
  for (const t of part) { p.call('XINFO', 'STREAM', t); p.call('XINFO', 'GROUPS', t); p.xlen(`{${t}}:dlq`) }
  const res = await p.exec()
  const q = r.pipeline()
  part.forEach((t, i) => {
    const gs = res[i * 3 + 1][1]
    if (!Array.isArray(gs)) return
    for (const g of gs) { const name = g[1]; q.call('XINFO', 'CONSUMERS', t, name); if (mode !== 'nosummary') q.xpending(t, name); q.xpending(t, name, '-', '+', 1); groups++ }
  })
  await q.exec()
}
const c = process.cpuUsage(c0)
console.log(mode, chunk, 'cpu', Math.round((c.user + c.system) / 1000), 'wall', Math.round(performance.now() - t0))
r.disconnect()
