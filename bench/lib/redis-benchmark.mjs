// The server's own ceiling for a command, measured with redis-benchmark (no Node client in the
// way): e.g. XADD with a ~200-byte payload, 50 connections, 64 commands per pipeline.
import {spawn} from 'node:child_process'

import {runningChildren} from './child.mjs'

export const REDIS_BENCHMARK_BIN = process.env.QCTL_BENCH_REDIS_BENCHMARK ?? 'redis-benchmark'

/**
 * Run `redis-benchmark -h HOST -p PORT -n REQUESTS -P PIPELINE -c CLIENTS --csv COMMAND...` and
 * resolve {rps, wallMs, stdout}. `rps` is redis-benchmark's own "requests per second" (its CSV's
 * second column); the command's arguments go through as argv (no shell), so a JSON payload needs no
 * quoting. Rejects on a non-zero exit or an unparsable report.
 */
export async function redisBenchmark({host, port, requests, pipeline = 64, clients = 50, command}) {
  const args = ['-h', host, '-p', String(port), '-n', String(requests), '-P', String(pipeline), '-c', String(clients), '--csv', ...command]
  const started = process.hrtime.bigint()
  const child = spawn(REDIS_BENCHMARK_BIN, args, {stdio: ['ignore', 'pipe', 'pipe']})
  runningChildren.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
  const {code, signal, wallMs} = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({code, signal, wallMs: Number(process.hrtime.bigint() - started) / 1e6}))
  }).finally(() => runningChildren.delete(child))
  if (code !== 0) throw new Error(`redis-benchmark exited with ${code ?? signal}:\n${stderr.slice(-2000)}\n${stdout.slice(-2000)}`)
  // The CSV row is "TEST","rps","avg","min","p50","p95","p99","max"; TEST is the command line, quotes
  // and commas unescaped, so read the seven numbers from the end.
  const row = stdout.trim().split('\n').at(-1)
  const match = row.match(/"([\d.]+)"(?:,"[\d.]+"){6}\s*$/)
  if (match === null) throw new Error(`redis-benchmark: no requests-per-second figure in its output:\n${stdout.slice(-2000)}`)
  return {rps: Number(match[1]), wallMs, stdout}
}
