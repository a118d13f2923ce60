import {spawn} from 'node:child_process'

import {CLI, cleanEnv, PROJECT_ROOT} from './cli.js'

/**
 * Run the built CLI in a pseudo-terminal (util-linux `script`) with `input` typed in: stdin, stdout
 * and stderr are TTYs, as for a person at a terminal (prompts, colours). `output` is both streams as
 * the terminal shows them.
 */
export async function inTerminal(args: string[], input: string): Promise<{code: number | null; output: string}> {
  const quoted = [process.execPath, CLI, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qfec', `stty cols 120 rows 40; ${quoted}`, '/dev/null'], {cwd: PROJECT_ROOT, env: cleanEnv({TERM: 'xterm-256color'})})
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
