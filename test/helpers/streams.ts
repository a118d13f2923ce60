import {spawn} from 'node:child_process'

import {CLI, cleanEnv, PROJECT_ROOT, type CliResult} from './cli.js'
import {shellQuote} from './tmux.js'
import type {AdminClient} from './test-redis.js'

/** Every entry of a stream, in order, as its ID and its exact field/value bytes. */
export async function rawEntries(redis: AdminClient, stream: string): Promise<Array<[string, Buffer[]]>> {
  const rows = (await redis.xrangeBuffer(stream, '-', '+')) as Array<[Buffer, Buffer[]]>
  return rows.map(([id, fields]) => [id.toString(), fields])
}

/** The same entries without their IDs, as hex (so a difference shows as bytes). */
export const fieldsHex = (entries: ReadonlyArray<[string, Buffer[]]>): string[][] => entries.map(([, fields]) => fields.map((value) => value.toString('hex')))

/**
 * Run a bash pipeline in which `qctl` is the built CLI (`node bin/run.js`), with `pipefail`: the
 * exit status is the last command's to fail, as a user's script with `set -o pipefail` sees it.
 */
export async function runPipeline(script: string, options: {timeoutMs?: number} = {}): Promise<CliResult> {
  const started = Date.now()
  const child = spawn('bash', ['-c', `set -o pipefail; qctl() { ${shellQuote(process.execPath)} ${shellQuote(CLI)} "$@"; }; ${script}`], {
    cwd: PROJECT_ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr, durationMs: Date.now() - started})
    })
  })
}

/** The NDJSON lines of a command's stdout, parsed. */
export const ndjson = <T = Record<string, unknown>>(stdout: string): T[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T)
