import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {expect} from 'vitest'

import type {TopicDescription} from '../../src/core/topics/describe.js'
import {jsonOf, runCli} from './cli.js'

/** Helpers for tests of partitioned topics: make one, publish keyed messages, record what handlers saw. */

let made = 0

/** `qctl topic create NAME-<n> --partitions N` on `url`, described. */
export async function createPartitionedTopic(url: string, name: string, partitions: number): Promise<TopicDescription> {
  const created = await runCli(['topic', 'create', `${name}-${++made}`, '--partitions', String(partitions), '--json', '-u', url])
  expect(created.code).toBe(0)
  return jsonOf<TopicDescription>(created)
}

/** Publish `messages` messages `{k: key-<n mod keys>, n}` keyed by `k`, from an NDJSON file in `dir`; `first` is the first n. */
export async function publishKeyed(url: string, dir: string, topic: string, messages: number, keys: number, first = 0): Promise<void> {
  const file = join(dir, `${topic}-${++made}.ndjson`)
  await writeFile(file, `${Array.from({length: messages}, (_, i) => JSON.stringify({k: `key-${(first + i) % keys}`, n: first + i})).join('\n')}\n`)
  const published = await runCli(['publish', topic, file, '--key-field', 'k', '-u', url])
  expect(published.code).toBe(0)
}

/** Write a handler (in `dir`) that appends `partition key n` of every message it handles to `log`; `extra` runs first. */
export async function recordingHandler(dir: string, log: string, extra = ''): Promise<string> {
  const file = join(dir, `handler-${++made}.mjs`)
  await writeFile(
    file,
    `import {appendFileSync} from 'node:fs'
export default async (message) => {
  ${extra}
  appendFileSync(${JSON.stringify(log)}, message.partition + ' ' + message.key + ' ' + message.data.n + '\\n')
}
`,
  )
  return file
}

/** The lines a recording handler wrote, as [partition, key, n]. */
export const handledLines = async (log: string): Promise<string[][]> => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => line.split(' '))
