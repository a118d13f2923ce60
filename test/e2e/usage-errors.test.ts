import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {PROJECT_ROOT, jsonOf, runCli} from '../helpers/cli.js'

/** Usage errors need no Redis: they are refused before anything connects. */
describe('usage errors read well', () => {
  it.each([
    [['work'], 'Error: missing required argument: HANDLER\nHint: see qctl work --help\n'],
    [['dlq', 'show'], 'Error: missing required arguments: TOPIC, ID\nHint: see qctl dlq show --help\n'],
    [['dlq', 'replay'], 'Error: missing required argument: TOPIC\nHint: see qctl dlq replay --help\n'],
  ])('names the missing argument of %j by its name, with the hint in the form it is typed', async (args, stderr) => {
    const result = await runCli(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(stderr)
  })

  it('flags that exclude each other: the reasons, without oclif\'s "The following errors occurred::"', async () => {
    const result = await runCli(['publish', 't', '--key', 'a', '--key-field', 'id', '--raw', '--data', 'x'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      'Error: --key-field=id cannot also be provided when using --key; --key-field=id cannot also be provided when using --raw\nHint: see qctl publish --help\n',
    )
  })

  it('a misspelt flag gets the closest one as a hint', async () => {
    const result = await runCli(['lag', '--max-lagg', '3'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: Nonexistent flag: --max-lagg\nHint: did you mean --max-lag? (see qctl lag --help)\n')
  })

  it('an unknown command gets one line, a "did you mean", and exit 2; also under a topic and with --json', async () => {
    const top = await runCli(['lagg'])
    expect(top.code).toBe(2)
    expect(top.stderr).toBe('Error: unknown command "lagg"\nHint: did you mean "qctl lag"? (see qctl --help)\n')
    const nested = await runCli(['dlq', 'shw', '1-0'])
    expect(nested.code).toBe(2)
    expect(nested.stderr).toBe('Error: unknown command "dlq shw"\nHint: did you mean "qctl dlq show"? (see qctl --help)\n')
    const far = await runCli(['frobnicate', '--json'])
    expect(far.code).toBe(2)
    expect(jsonOf(far)).toEqual({error: {code: 'USAGE', message: 'unknown command "frobnicate"', exitCode: 2, suggestion: 'see qctl --help'}})
  })
})

describe('empty names are refused by every command alike', () => {
  // A closed port: a command that tried to connect would exit 3, so exit 2 shows it was refused first.
  const nowhere = ['-u', 'redis://127.0.0.1:1']
  it.each([
    [['publish', '', '--data', '{}'], 'TOPIC'],
    [['lag', ''], 'TOPIC'],
    [['lag', 'orders', ''], 'TOPIC'],
    [['inspect', ''], 'TOPIC'],
    [['top', '', '--once'], 'TOPIC'],
    [['dlq', 'list', ''], 'TOPIC'],
    [['dlq', 'show', 'orders', ''], 'ID'],
    [['dlq', 'replay', '', '--dry-run'], 'TOPIC'],
    [['dlq', 'purge', '', '--dry-run'], 'TOPIC'],
    [['work', 'handler.mjs', '--topic', ''], '--topic'],
    [['lag', 'orders', '--group', ''], '--group'],
    [['dlq', 'list', 'orders', '--dlq', ''], '--dlq'],
  ])('%j: exit 2, "%s must not be empty"', async (args, name) => {
    const result = await runCli([...args, ...nowhere])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(`Error: ${name} must not be empty\n`)
  })
})

describe('qctl work: options of --ordered without it', () => {
  // A closed port: exit 2 shows it was refused before connecting.
  const nowhere = ['-u', 'redis://127.0.0.1:1']
  const HANDLER = `${PROJECT_ROOT}/test/fixtures/handlers/with-defaults.mjs`
  const onDeadLetter = "needs --ordered: it says what a dead-lettered message does to its key's later messages, which only --ordered keeps in order"

  it.each([
    [['--on-dead-letter', 'hold-key'], `--on-dead-letter ${onDeadLetter}`],
    [['--on-dead-letter', 'continue'], `--on-dead-letter ${onDeadLetter}`],
    [['--lease-timeout', '5s'], '--lease-timeout needs --ordered: partition leases are taken only by --ordered workers (on a partitioned topic)'],
  ])('%j: exit 2, one line naming the flag', async (flags, message) => {
    const result = await runCli(['work', HANDLER, ...flags, ...nowhere])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(`Error: ${message}\n`)
  })

  it("the handler module's onDeadLetter export: exit 2, naming the export (with --json, the USAGE error)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qctl-usage-'))
    try {
      const file = join(dir, 'billing.mjs')
      await writeFile(file, "export const topic = 'orders'\nexport const onDeadLetter = 'hold-key'\nexport default async () => {}\n")
      const result = await runCli(['work', file, ...nowhere])
      expect(result.code).toBe(2)
      expect(result.stderr).toBe(`Error: the handler module's \`onDeadLetter\` export ${onDeadLetter}\n`)
      const json = await runCli(['work', file, '--json', ...nowhere])
      expect(json.code).toBe(2)
      expect(jsonOf<{error: {code: string; exitCode: number}}>(json).error).toMatchObject({code: 'USAGE', exitCode: 2})
      // With --ordered it gets as far as connecting (exit 3: nothing listens there).
      expect((await runCli(['work', file, '--ordered', '--lease-timeout', '5s', ...nowhere])).code).toBe(3)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
