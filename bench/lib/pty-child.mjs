// Run a program in a pseudo-terminal, as a user at a terminal would (a live screen needs stdout
// AND stdin to be TTYs), and read its CPU time and memory from /proc. Uses util-linux `script`:
// `script -qfec "stty cols C rows R; exec PROGRAM..." /dev/null`, with our stdin as a pipe whose
// bytes script forwards to the terminal (so writing "q" is a keypress) and the terminal's output
// on script's stdout. `exec` makes the program the direct child of script, so its pid is found
// in /proc/<script>/task/<script>/children. Linux only.
import {execFileSync, spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'

import {runningChildren} from './child.mjs'

/** Clock ticks per second of /proc/<pid>/stat's times (`getconf CLK_TCK`, 100 almost everywhere). */
export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim())

/** utime + stime of a process (all its threads), in seconds; undefined once it is gone. */
export function processCpuSeconds(pid) {
  let stat
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (man 5 proc).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLOCK_TICKS
}

/** {rssKiB, peakRssKiB} of a process from /proc/<pid>/status; undefined once it is gone. */
export function processMemory(pid) {
  let status
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1])
  return {rssKiB: field('VmRSS'), peakRssKiB: field('VmHWM')}
}

const childrenOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** argv[0] of a process ('' once it is gone). */
const programOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]
  } catch {
    return ''
  }
}

const shellQuote = (word) => `'${String(word).replaceAll("'", "'\\''")}'`
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Start `file args` in a pseudo-terminal of `cols` × `rows`. Resolves, once the program has
 * replaced the shell, to {pid (the program's), scriptPid, output(), sawOutput(text), type(text),
 * waitForOutput(test, timeoutMs), exited, kill()}. `output()` is the last `keepBytes` of what the
 * program wrote to the terminal; `exited` resolves to {code, signal} of script, which with -e is
 * the program's own exit status.
 */
export async function spawnInPty(file, args, {cwd, env = process.env, cols = 200, rows = 60, keepBytes = 512 * 1024} = {}) {
  const command = `stty cols ${cols} rows ${rows}; exec ${[file, ...args].map(shellQuote).join(' ')}`
  const child = spawn('script', ['-qfec', command, '/dev/null'], {cwd, env, stdio: ['pipe', 'pipe', 'pipe']})
  let pid
  // For the runner's SIGINT/exit cleanup: kill the program and script, by pid.
  const handle = {
    kill(signal) {
      if (pid !== undefined) {
        try {
          process.kill(pid, signal)
        } catch {
          // already gone
        }
      }
      child.kill(signal)
    },
  }
  runningChildren.add(handle)

  let tail = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    tail += chunk
    if (tail.length > keepBytes * 2) tail = tail.slice(-keepBytes)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk))
  child.stdin.on('error', () => undefined)
  const exited = new Promise((resolve) => {
    child.once('error', (error) => resolve({code: null, signal: null, error}))
    child.once('close', (code, signal) => resolve({code, signal}))
  }).finally(() => runningChildren.delete(handle))

  const deadline = Date.now() + 10_000
  while (pid === undefined) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      handle.kill('SIGKILL')
      const {code, signal} = await exited
      throw new Error(`pty: ${file} did not start under script (exit ${code ?? signal}):\n${stderr}\n${tail.slice(-2000)}`)
    }
    // Until the shell has run stty and exec'd, script's child is `sh -c ...`.
    pid = childrenOf(child.pid).find((candidate) => programOf(candidate) === file)
    if (pid === undefined) await sleep(10)
  }

  return {
    pid,
    scriptPid: child.pid,
    output: () => tail,
    stderr: () => stderr,
    type: (text) => child.stdin.write(text),
    async waitForOutput(test, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs
      while (!test(tail)) {
        if (Date.now() > until || child.exitCode !== null) return false
        await sleep(20)
      }
      return true
    },
    exited,
    kill: (signal = 'SIGKILL') => handle.kill(signal),
  }
}

/** The environment a user at a terminal would have: none of the bench's own or CI's settings. */
export function terminalEnv() {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('QCTL_') || ['REDIS_URL', 'DEBUG', 'NO_COLOR', 'CI', 'FORCE_COLOR'].includes(key)) continue
    env[key] = value
  }
  env.TERM ??= 'xterm-256color'
  return env
}
