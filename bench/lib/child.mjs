// Run one benchmark contender as a whole child process, timed from spawn to exit.
import {spawn} from 'node:child_process'
import {readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const RSS_PRELOAD = fileURLToPath(new URL('./report-rss.mjs', import.meta.url))

/** Children currently running, so a SIGINT handler can stop them. */
export const runningChildren = new Set()

let sequence = 0

/**
 * Run `node [nodeArgs] script [args]` and time it from spawn to exit (wall clock, as a user sees it).
 * Resolves {wallMs, code, signal, timedOut, stdout, stdoutBytes, stderr, peakRssKiB, cpuMs}; never
 * rejects on a non-zero exit (the caller decides). A child still running after `timeoutMs` is
 * SIGKILLed (`timedOut` true). Peak RSS and CPU time come from getrusage in the child via a preload
 * (undefined if it did not run). `stdoutTailBytes` keeps only about that much of the end of stdout
 * (whole lines), for children that print a line per message (`qctl work --json` prints one per
 * retry: ~100 MB for a 1M retry storm) and end with the line the caller needs; `stdoutBytes` is
 * then what the child wrote in all.
 */
export async function runNode(script, args, {cwd, env = {}, nodeArgs = [], measureRss = true, timeoutMs = 15 * 60_000, stdoutTailBytes} = {}) {
  const rssFile = join(tmpdir(), `qctl-bench-rss-${process.pid}-${++sequence}`)
  const childEnv = {...process.env, ...env}
  if (measureRss) childEnv.QCTL_BENCH_RSS_FILE = rssFile
  const argv = [...(measureRss ? ['--import', RSS_PRELOAD] : []), ...nodeArgs, script, ...args]

  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, argv, {cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe']})
  runningChildren.add(child)
  let stdout = ''
  let stderr = ''
  let stdoutBytes = 0
  // With a tail: raw chunks, the oldest dropped while the rest still covers the tail (no decoding of what is dropped).
  const tail = []
  let tailBytes = 0
  if (stdoutTailBytes === undefined) {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk
      stdoutBytes += Buffer.byteLength(chunk)
    })
  } else {
    child.stdout.on('data', (chunk) => {
      tail.push(chunk)
      tailBytes += chunk.length
      stdoutBytes += chunk.length
      while (tailBytes - tail[0].length >= stdoutTailBytes) tailBytes -= tail.shift().length
    })
  }
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const {code, signal, wallMs} = await new Promise((resolve, reject) => {
    child.once('error', reject)
    // 'exit' is the moment the process is gone; 'close' additionally waits for its pipes to drain.
    let exitedAt
    child.once('exit', () => (exitedAt = process.hrtime.bigint()))
    child.once('close', (code, signal) => resolve({code, signal, wallMs: Number((exitedAt ?? process.hrtime.bigint()) - started) / 1e6}))
  }).finally(() => {
    clearTimeout(timer)
    runningChildren.delete(child)
  })

  if (stdoutTailBytes !== undefined) {
    stdout = Buffer.concat(tail).toString('utf8')
    // Dropped chunks: the first line kept may be the end of a longer one.
    if (tailBytes < stdoutBytes) stdout = stdout.slice(stdout.indexOf('\n') + 1)
  }
  const {peakRssKiB, cpuMs} = measureRss ? await takeUsage(rssFile) : {}
  return {wallMs, code, signal, timedOut, stdout, stdoutBytes, stderr, peakRssKiB, cpuMs}
}

/** The last JSON value a child printed on stdout (qctl --json pretty-prints one object). */
export function parseJsonOutput(stdout, what) {
  const text = stdout.trim()
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`${what}: stdout is not JSON:\n${text.slice(0, 2000)}`)
  }
}

/**
 * Peak RSS (KiB) and CPU time (ms) that report-rss.mjs wrote at the child's exit, then the file is
 * removed; both undefined if the child died before its exit hook ran.
 */
export async function takeUsage(rssFile) {
  let usage
  try {
    usage = JSON.parse(await readFile(rssFile, 'utf8'))
  } catch {
    // the child died before its exit hook ran
  }
  await rm(rssFile, {force: true})
  return usage === undefined ? {} : {peakRssKiB: usage.maxRssKiB, cpuMs: (usage.userUs + usage.systemUs) / 1000}
}
