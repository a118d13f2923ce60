import type {Cluster, Redis} from 'ioredis'

/** One dead-letter entry to write, as `qctl work` writes it (README, "qctl work"). */
export interface DeadLetterSpec {
  data?: string
  /** The wire format's `key` and `headers` fields, after `data` when given. */
  key?: string
  headers?: string
  /** Extra original fields (name, value), after those. */
  fields?: Array<[string, string]>
  group?: string
  errorName?: string
  errorMessage?: string
  attempts?: number
  /** dlq.id: the ID the message had on its topic; made up when not given. */
  originId?: string
  /** dlq.topic; defaults to the topic. */
  originTopic?: string
  /** Dead-lettered at this time (ms): the entry ID's time; now when not given. */
  at?: number
}

export const dlqKeyOf = (topic: string): string => `{${topic}}:dlq`

/** Write dead-letter entries directly into `{topic}:dlq` (or `key`), pipelined; returns their IDs. */
export async function writeDeadLetters(redis: Redis | Cluster, topic: string, specs: readonly DeadLetterSpec[], key = dlqKeyOf(topic)): Promise<string[]> {
  const now = Date.now()
  const ids: string[] = []
  for (let start = 0; start < specs.length; start += 1000) {
    const pipeline = redis.pipeline()
    specs.slice(start, start + 1000).forEach((spec, offset) => {
      const n = start + offset
      const fields = ['data', spec.data ?? JSON.stringify({n})]
      if (spec.key !== undefined) fields.push('key', spec.key)
      if (spec.headers !== undefined) fields.push('headers', spec.headers)
      fields.push(...(spec.fields ?? []).flat())
      fields.push(
        'dlq.topic', spec.originTopic ?? topic,
        'dlq.id', spec.originId ?? `${now - 60_000}-${n}`,
        'dlq.group', spec.group ?? 'billing',
        'dlq.consumer', 'host-1',
        'dlq.attempts', String(spec.attempts ?? 5),
        'dlq.error-name', spec.errorName ?? 'Error',
        'dlq.error-message', spec.errorMessage ?? `failed ${n}`,
        'dlq.first-failure', new Date(now - 50_000).toISOString(),
        'dlq.last-failure', new Date(now - 40_000).toISOString(),
      )
      pipeline.xadd(key, spec.at === undefined ? '*' : `${spec.at}-*`, ...fields)
    })
    for (const [error, id] of (await pipeline.exec()) ?? []) {
      if (error !== null) throw error
      ids.push(id as string)
    }
  }
  return ids
}
