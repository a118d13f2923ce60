import {describe, expect, it} from 'vitest'

import {jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

// Exit 1 is for bugs only, so no real input reaches it: QCTL_DEBUG_INTERNAL_ERROR=1 (a test hook,
// README "Output, errors and exit codes") makes every command throw a plain Error before it runs.

describe('an unexpected error (exit 1), through the QCTL_DEBUG_INTERNAL_ERROR test hook', () => {
  const ctx = usePrivateRedis()
  const hooked = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli([...args, '-u', ctx.server.url], {env: {QCTL_DEBUG_INTERNAL_ERROR: '1', ...env}})
  const BUG = /^Error: internal error: QCTL_DEBUG_INTERNAL_ERROR=1 made this command fail on purpose\. This is a bug in qctl: please report it \(run with DEBUG=qctl for details\)\.\n$/

  it.each([[['lag']], [['publish', 't', '--data', '{}']], [['dlq', 'list', 't']]])('%o: exit 1, one line asking for a report, no stack', async (args) => {
    const result = await hooked(args)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(BUG)
    expect(result.stdout).toBe('')
  })

  it('prints the stack with DEBUG=qctl, and a JSON error with --json', async () => {
    const debug = await hooked(['lag'], {DEBUG: 'qctl'})
    expect(debug.code).toBe(1)
    expect(debug.stderr.split('\n')[0]).toMatch(/^Error: internal error: QCTL_DEBUG_INTERNAL_ERROR=1/)
    expect(debug.stderr).toMatch(/\n {4}at /)

    const json = await hooked(['lag', '--json'])
    expect(json.code).toBe(1)
    expect(jsonOf<{error: {code: string; exitCode: number; message: string}}>(json).error).toMatchObject({code: 'INTERNAL', exitCode: 1})

    const off = await runCli(['lag', '-u', ctx.server.url], {env: {QCTL_DEBUG_INTERNAL_ERROR: '0'}})
    expect(off.code).toBe(0)
  })
})
