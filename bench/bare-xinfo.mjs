#!/usr/bin/env node
// The "bare" baseline for the many-topics scenario: what a plain ioredis script needs to read the
// figures `qctl lag` shows, over every stream matching a glob. One connection; SCAN MATCH … TYPE
// stream; ONE pipeline with, per topic, XINFO STREAM, XINFO GROUPS and XLEN of its dead-letter
// stream `{topic}:dlq`; then ONE pipeline with, per group, XINFO CONSUMERS and XPENDING key group
// - + 1 (the oldest pending entry). The same commands qctl sends, with no parsing beyond what
// ioredis does, no sorting, no gates, no output but a count.
//
//   node bench/bare-xinfo.mjs --redis-url URL --match 'many.*'
//
// Prints {"topics": N, "groups": G} on stdout.
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

const {values} = parseArgs({options: {'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'}, match: {type: 'string', default: '*'}}})

const redis = new Redis(values['redis-url'])
const topics = []
let cursor = '0'
do {
  const [next, batch] = await redis.call('SCAN', cursor, 'MATCH', values.match, 'COUNT', 1000, 'TYPE', 'stream')
  cursor = next
  for (const key of batch) if (!key.endsWith(':dlq')) topics.push(key)
} while (cursor !== '0')

const first = redis.pipeline()
for (const topic of topics) {
  first.call('XINFO', 'STREAM', topic)
  first.call('XINFO', 'GROUPS', topic)
  first.xlen(`{${topic}}:dlq`)
}
const replies = await first.exec()

const second = redis.pipeline()
let groups = 0
topics.forEach((topic, index) => {
  const [error, list] = replies[index * 3 + 1]
  if (error !== null) return
  for (const group of list) {
    // An XINFO GROUPS entry is a flat [field, value, ...] list; `name` comes first.
    const name = group[group.indexOf('name') + 1]
    second.call('XINFO', 'CONSUMERS', topic, name)
    second.xpending(topic, name, '-', '+', 1)
    groups++
  }
})
if (groups > 0) await second.exec()
process.stdout.write(`${JSON.stringify({topics: topics.length, groups})}\n`)
redis.disconnect()
