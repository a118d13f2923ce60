// A long-running benchmark child (a consumer) that says on stdout when it is ready, so the load
// can start only then; its CPU time and peak RSS come from the same getrusage preload as
// child.mjs's runNode (bench/lib/report-rss.mjs).
import {spawn} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {runningChildren, takeUsage} from './child.mjs'

const RSS_PRELOAD = fileURLToPath(new URL('./report-rss.mjs', import.meta.url))

let sequence = 0

/**
 * Start `node script args`. Returns {pid, ready, exited, stdout(), stderr(), kill(signal)}:
 * `ready` resolves when a line of stdout satisfies `readyTest(line)` (rejects if the child exits
 * first or after `readyTimeoutMs`); `exited` resolves to {code, signal, stdout, stderr, cpuMs,
 * peakRssKiB} and never rejects.
 */
export function spawnWithReady(script, args, {cwd, env = {}, readyTest, readyTimeoutMs = 30_000} = {}) {
  const rssFile = join(tmpdir(), `qctl-bench-ready-rss-${process.pid}-${++sequence}`)
  const child = spawn(process.execPath, ['--import', RSS_PRELOAD, script, ...args], {
    cwd,
    env: {...process.env, ...env, QCTL_BENCH_RSS_FILE: rssFile},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  runningChildren.add(child)
  let stdout = ''
  let stderr = ''
  let isReady = false
  let markReady
  let failReady
  const ready = new Promise((resolve, reject) => {
    markReady = resolve
    failReady = reject
  })
  ready.catch(() => undefined) // a caller that never awaits it must not crash the runner
  const timer = setTimeout(() => {
    if (!isReady) failReady(new Error(`${script}: not ready after ${readyTimeoutMs} ms:\n${stderr.slice(-2000)}\n${stdout.slice(-2000)}`))
  }, readyTimeoutMs)
  let pendingLine = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk
    if (isReady) return
    const lines = (pendingLine + chunk).split('\n')
    pendingLine = lines.pop() ?? ''
    if (lines.some((line) => readyTest(line))) {
      isReady = true
      clearTimeout(timer)
      markReady()
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
  const exited = new Promise((resolve) => {
    child.once('error', (error) => resolve({code: null, signal: null, error}))
    child.once('close', (code, signal) => resolve({code, signal}))
  }).then(async ({code, signal, error}) => {
    runningChildren.delete(child)
    clearTimeout(timer)
    if (!isReady) failReady(new Error(`${script} exited (${code ?? signal ?? error?.message}) before it was ready:\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`))
    const {cpuMs, peakRssKiB} = await takeUsage(rssFile)
    return {code, signal, stdout, stderr, cpuMs, peakRssKiB}
  })
  return {
    pid: child.pid,
    ready,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    kill: (signal = 'SIGTERM') => child.kill(signal),
  }
}
