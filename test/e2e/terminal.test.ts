import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CLI, cleanEnv, PROJECT_ROOT} from '../helpers/cli.js'
import {RedisServer} from '../helpers/redis-server.js'

const run = promisify(execFile)
const ESC = '\u001b['

/** Run the CLI inside a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs. */
async function inTerminal(args: string[], env: Record<string, string> = {}, exitCode = 0): Promise<string> {
  const quoted = [process.execPath, CLI, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ')
  // A pseudo-terminal made by `script` may report 0 columns; give it a real size. `script -e`
  // exits with the command's code: an expected one other than 0 is checked here and turned into 0.
  const command = `stty cols 120 rows 40; ${quoted}${exitCode === 0 ? '' : `; test $? -eq ${exitCode}`}`
  const {stdout} = await run('script', ['-qfec', command, '/dev/null'], {cwd: PROJECT_ROOT, env: cleanEnv({TERM: 'xterm-256color', ...env})})
  return stdout
}

describe('decorations on a terminal', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await RedisServer.start()
  })

  afterAll(async () => {
    await server?.stop()
  })

  const args = (): string[] => ['publish', 'tty', 'examples/orders.ndjson', '-u', server.url]

  it('shows a spinner and colour on a TTY', async () => {
    const output = await inTerminal(args())
    expect(output).toContain('Published 20 messages to')
    expect(output).toContain(ESC)
  })

  it('lag --wait shows what still fails and the time left while it waits, and says when it gives up', async () => {
    const admin = await server.client()
    await admin.xadd('tty.wait', '*', 'data', '{}')
    await admin.xgroup('CREATE', 'tty.wait', 'g', '0')
    admin.disconnect()
    const output = await inTerminal(['lag', 'tty.wait', '--max-lag', '0', '--max-pending', '0', '--wait', '3s', '-u', server.url], {}, 8)
    expect(output).toMatch(/waiting, [12]s left: tty\.wait\/g: lag 1 > --max-lag 0/)
    expect(output).toContain('gave up waiting after 3.00s (--wait): 1 gate still failing')
  })

  it('never decorates with NO_COLOR or --json, even on a TTY', async () => {
    const plain = await inTerminal(args(), {NO_COLOR: '1'})
    expect(plain).toContain('Published 20 messages to tty')
    expect(plain).not.toContain(ESC)
    const json = await inTerminal([...args(), '--json'])
    expect(json).toContain('"published": 20')
    expect(json).not.toContain(ESC)
  })
})
