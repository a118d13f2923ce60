import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CLI = join(PROJECT_ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  durationMs: number
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  /** Written to stdin, then stdin is closed. Without it stdin is closed empty. */
  input?: string | Buffer
  cwd?: string
  timeoutMs?: number
}

/**
 * A config directory that does not exist: the CLI under test never reads the profiles of the person
 * running the tests (a current profile there would point every command at their Redis). Tests of
 * profiles give XDG_CONFIG_HOME (or HOME) of their own.
 */
export const NO_CONFIG_HOME = join(tmpdir(), `qctl-tests-no-config-${process.pid}`)

/** The environment a user would have, minus anything that would point qctl at another Redis. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    // CI=true makes ora (through is-interactive) print a static line instead of a live spinner: the
    // tests must see what a user at a terminal sees, on a developer machine and in CI alike.
    // NODE_ENV=test (set by vitest) would make oclif load its TypeScript loader and React its
    // development build: qctl must run as users run it.
    // TRACEPARENT/TRACESTATE (set by CI systems that trace their jobs) would add headers to what tests publish.
    if (name.startsWith('QCTL_') || ['REDIS_URL', 'DEBUG', 'NO_COLOR', 'CI', 'NODE_ENV', 'TRACEPARENT', 'TRACESTATE'].includes(name) || name.startsWith('VITEST')) continue
    env[name] = value
  }
  env.XDG_CONFIG_HOME = NO_CONFIG_HOME
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  return env
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams
  /** Settles when the process has exited and its output is fully read. */
  done: Promise<CliResult>
  /** Output so far. */
  output(): {stdout: string; stderr: string}
}

/** Start the built CLI (`node bin/run.js ...`) as a subprocess; stdin stays open for the test to write. */
export function startCli(args: string[], options: Omit<CliOptions, 'input'> = {}): RunningCli {
  const started = Date.now()
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdin.on('error', () => {})
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
  const done = new Promise<CliResult>((resolve) => {
    // 'close' fires after the process exited and its stdout/stderr were fully read.
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr, durationMs: Date.now() - started})
    })
  })
  return {child, done, output: () => ({stdout, stderr})}
}

/** Run the built CLI (`node bin/run.js ...`) as a subprocess, the way users do. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const running = startCli(args, options)
  running.child.stdin.end(options.input ?? '')
  return running.done
}

/** Run the CLI in a pseudo-terminal (util-linux `script`) with `input` typed in; stdin, stdout and stderr are TTYs. */
export async function inTerminal(args: string[], input: string, env: Record<string, string | undefined> = {}): Promise<{code: number | null; output: string}> {
  const quoted = [process.execPath, CLI, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qfec', `stty cols 120 rows 40; ${quoted}`, '/dev/null'], {cwd: PROJECT_ROOT, env: cleanEnv({TERM: 'xterm-256color', ...env})})
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  // The terminal holds typed-ahead input until the prompt reads it.
  child.stdin.end(input)
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  clearTimeout(timer)
  return {code, output}
}

/** Poll until `check` returns true (for waiting on another process), failing after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Parse the `--json` document a command printed. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

