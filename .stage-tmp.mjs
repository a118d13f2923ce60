import {Redis} from 'ioredis'
import {findTopicsAndDeadLetters, topicStats} from './dist/core/stats/topic-stats.js'
import {lagRows} from './dist/core/lag/lag.js'
const r = new Redis({port: 6391, commandTimeout: process.env.CT ? Number(process.env.CT) : undefined})
const t0 = performance.now()
const found = await findTopicsAndDeadLetters(r)
const t1 = performance.now()
const stats = await topicStats(r, found.topics, {deadLetterStreams: found.deadLetterStreams})
const t2 = performance.now()
const rows = lagRows(stats, Date.now())
const t3 = performance.now()
const json = JSON.stringify(rows, null, 2)
const t4 = performance.now()
console.log({find: t1 - t0, stats: t2 - t1, rows: t3 - t2, json: t4 - t3, n: rows.length})
r.disconnect()
