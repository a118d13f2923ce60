import {spawnSync} from 'node:child_process'
import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {deadLetterKey} from '../../src/core/keys.js'
import {redact} from '../../src/output/redact.js'
import {CLI, cleanEnv, PROJECT_ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {freePort, RedisServer} from '../helpers/redis-server.js'
import {shellQuote, TmuxSession} from '../helpers/tmux.js'

/**
 * `qctl autocomplete bash|zsh|fish` through the built CLI: the scripts hold every command and its
 * flags; bash completion is run for real (its function called as bash calls it), zsh and fish in a
 * terminal when installed; topic names come from a private Redis, and nothing (exit 0) when Redis
 * is unreachable or silent.
 */

const PASSWORD = 'C0mplete:pw@5/k'

interface ManifestFlag {
  name: string
  char?: string
  hidden?: boolean
}
interface ManifestCommand {
  id: string
  hidden?: boolean
  flags: Record<string, ManifestFlag>
}

let server: RedisServer
let dir: string
let cache: string
let bin: string
let visible: ManifestCommand[]
const scripts: Record<'bash' | 'zsh' | 'fish', string> = {bash: '', zsh: '', fish: ''}

const has = (program: string): boolean => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-completion-'))
  cache = join(dir, 'cache')
  // `qctl` on PATH, as the scripts call it.
  bin = join(dir, 'bin')
  await mkdir(bin)
  await writeFile(join(bin, 'qctl'), `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(CLI)} "$@"\n`)
  await chmod(join(bin, 'qctl'), 0o755)
  server = await RedisServer.start({args: ['--requirepass', PASSWORD]})
  const admin = await server.client({password: PASSWORD})
  await admin.xadd('orders.eu', '*', 'data', '{}')
  await admin.xadd('orders.us', '*', 'data', '{}')
  await admin.xadd('payments', '*', 'data', '{}')
  await admin.xadd(deadLetterKey('payments'), '*', 'data', '{}')
  admin.disconnect()
  // A partitioned topic: completed by its name, never by its partitions' streams.
  expect((await runCli(['topic', 'create', 'zones.parted', '--partitions', '3', '-u', withPassword()])).code).toBe(0)
  const manifest = JSON.parse(await readFile(join(PROJECT_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
  visible = Object.values(manifest.commands).filter((command) => command.hidden !== true)
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const result = await runCli(['autocomplete', shell], {env: {XDG_CACHE_HOME: cache}})
    expect(result.code, result.stderr).toBe(0)
  }
  const functions = join(cache, 'qctl', 'autocomplete', 'functions')
  scripts.bash = await readFile(join(functions, 'bash', 'qctl.bash'), 'utf8')
  scripts.zsh = await readFile(join(functions, 'zsh', '_qctl'), 'utf8')
  scripts.fish = await readFile(join(functions, 'fish', 'qctl.fish'), 'utf8')
})

afterAll(async () => {
  await server?.stop()
  if (dir !== undefined) await rm(dir, {recursive: true, force: true})
})

const withPassword = (): string => `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}`

function expectNoPassword(result: {stdout: string; stderr: string}): void {
  expect(`${result.stdout}${result.stderr}`).not.toContain(PASSWORD)
  expect(`${result.stdout}${result.stderr}`).not.toContain(encodeURIComponent(PASSWORD))
}

describe('the generated scripts', () => {
  it('autocomplete prints the steps for each shell (fish: where to write the script)', async () => {
    const fish = await runCli(['autocomplete', 'fish'], {env: {XDG_CACHE_HOME: cache}})
    expect(fish.stdout).toContain('qctl autocomplete script fish > ~/.config/fish/completions/qctl.fish')
    const bash = await runCli(['autocomplete', 'bash'], {env: {XDG_CACHE_HOME: cache}})
    expect(bash.stdout).toContain('qctl autocomplete script bash')
    const script = await runCli(['autocomplete', 'script', 'fish'], {env: {XDG_CACHE_HOME: cache}})
    expect(script.code).toBe(0)
    // Printed as everything qctl prints: the redis://[user:password@]… of a flag summary reads as a URL's password and is masked.
    expect(script.stdout).toBe(redact(scripts.fish))
    const unknown = await runCli(['autocomplete', 'tcsh'])
    expect(unknown.code).toBe(2)
  })

  it('bash: every command, each with all its flags (the plugin\'s list), and qctl\'s addition once, however often it is rebuilt', async () => {
    ok(await runCli(['autocomplete', '--refresh-cache'], {env: {XDG_CACHE_HOME: cache}}))
    const again = await readFile(join(cache, 'qctl', 'autocomplete', 'functions', 'bash', 'qctl.bash'), 'utf8')
    expect(again).toBe(scripts.bash)
    expect(scripts.bash.split('# --- qctl: topic and profile names').length).toBe(2)
    for (const command of visible) {
      const line = scripts.bash.split('\n').find((candidate) => candidate.startsWith(`${command.id} `) || candidate === command.id)
      expect(line, command.id).toBeDefined()
      for (const flag of Object.values(command.flags).filter((candidate) => candidate.hidden !== true)) expect(line?.split(' '), `${command.id} --${flag.name}`).toContain(`--${flag.name}`)
    }
  })

  it('zsh: every command, each with all its flags', () => {
    for (const command of visible) {
      expect(scripts.zsh, command.id).toContain(`"${command.id.split(':').at(-1)}[`)
      // `--name"[summary]"`, or with a short form `{-u,--redis-url}"[summary]"`.
      for (const flag of Object.values(command.flags).filter((candidate) => candidate.hidden !== true)) expect(scripts.zsh, `${command.id} --${flag.name}`).toMatch(new RegExp(`--${flag.name}}?"\\[`))
    }
    expect(scripts.zsh).toContain('_qctl_oclif() {')
    expect(scripts.zsh).toContain('__complete-topics')
  })

  it('fish: every command, each with all its flags', () => {
    for (const command of visible) {
      expect(scripts.fish, command.id).toContain(`-a '${command.id.split(':').at(-1)}' -d `)
      for (const flag of Object.values(command.flags).filter((candidate) => candidate.hidden !== true)) {
        expect(scripts.fish, `${command.id} --${flag.name}`).toContain(`complete -c qctl -n '__qctl_is ${command.id}' -l ${flag.name}${flag.char === undefined ? '' : ` -s ${flag.char}`}`)
      }
    }
  })

  it.skipIf(!has('zsh'))('zsh parses the script', () => {
    const check = spawnSync('zsh', ['-n', join(cache, 'qctl', 'autocomplete', 'functions', 'zsh', '_qctl')], {encoding: 'utf8'})
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
  })

  it.skipIf(!has('fish'))('fish parses the script', () => {
    const check = spawnSync('fish', ['--no-execute', join(cache, 'qctl', 'autocomplete', 'functions', 'fish', 'qctl.fish')], {encoding: 'utf8'})
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
  })
})

function ok(result: CliResult): CliResult {
  expect(result.code, `exit ${result.code}\n${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

/**
 * The completion timeout where a test expects topics back: 300 ms (the default) covers connecting and
 * a SCAN on a quiet machine, not a test process started on a loaded two-core one. The default's
 * give-up is tested against a silent server below, where it must stay short.
 */
const SLOW_MACHINE_TIMEOUT = '10s'

/** What bash's completion offers for `line` (the cursor at its end), by calling the function bash calls on TAB. */
function bashComplete(line: string, env: Record<string, string | undefined> = {}): string[] {
  const program = [
    'source "$1"',
    'COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}',
    'read -r -a COMP_WORDS <<< "$COMP_LINE"; [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")',
    'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))',
    'complete -p qctl >&2',
    '_qctl_complete',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n')
  const result = spawnSync('bash', ['-c', program, 'bash', join(cache, 'qctl', 'autocomplete', 'functions', 'bash', 'qctl.bash'), line], {
    encoding: 'utf8',
    env: cleanEnv({PATH: `${bin}:${process.env.PATH ?? ''}`, XDG_CACHE_HOME: cache, QCTL_COMPLETION_TIMEOUT: SLOW_MACHINE_TIMEOUT, ...env}),
  })
  expect(result.status, result.stderr).toBe(0)
  // The wrapper is what bash calls on TAB for qctl.
  expect(result.stderr).toContain('complete -F _qctl_complete qctl')
  return result.stdout.split('\n').filter((reply) => reply !== '')
}

describe.concurrent('bash completion, run as bash runs it', () => {
  it('commands, subcommands, and flags, also after arguments', () => {
    expect(bashComplete('qctl pro')).toEqual(expect.arrayContaining(['profile']))
    expect(bashComplete('qctl profile ')).toEqual(expect.arrayContaining(['create', 'delete', 'list', 'show', 'use']))
    expect(bashComplete('qctl lag --max-l')).toEqual(['--max-lag'])
    expect(bashComplete('qctl lag orders.eu --max-l')).toEqual(['--max-lag'])
    expect(bashComplete('qctl dlq list payments --ol')).toEqual(expect.arrayContaining(['--older-than', '--oldest']))
    expect(bashComplete('qctl autocomplete ')).toEqual(['bash', 'zsh', 'fish', 'powershell'])
  })

  it('topic names from Redis: arguments and --topic, from $QCTL_REDIS_URL or the -u on the line (never dead-letter streams)', () => {
    const env = {QCTL_REDIS_URL: withPassword()}
    expect(bashComplete('qctl lag ', env)).toEqual(['orders.eu', 'orders.us', 'payments', 'zones.parted'])
    expect(bashComplete('qctl lag orders.eu o', env)).toEqual(['orders.eu', 'orders.us'])
    expect(bashComplete('qctl work handler.js --topic ord', env)).toEqual(['orders.eu', 'orders.us'])
    expect(bashComplete('qctl work handler.js -g billing --topic=pay', env)).toEqual(['payments'])
    expect(bashComplete(`qctl inspect -u ${withPassword()} pay`)).toEqual(['payments'])
    // Not a topic: dlq show's second argument is an entry ID.
    expect(bashComplete('qctl dlq show payments ', env)).toEqual([])
  })

  it('profile names for --profile and profile use', async () => {
    const config = await mkdtemp(join(dir, 'config-'))
    ok(await runCli(['profile', 'create', 'staging', '-u', withPassword()], {env: {XDG_CONFIG_HOME: config}}))
    ok(await runCli(['profile', 'create', 'prod', '-u', 'redis://127.0.0.1:1'], {env: {XDG_CONFIG_HOME: config}}))
    expect(bashComplete('qctl profile use ', {XDG_CONFIG_HOME: config})).toEqual(['prod', 'staging'])
    expect(bashComplete('qctl lag --profile st', {XDG_CONFIG_HOME: config})).toEqual(['staging'])
    // The profile on the line gives the topics.
    expect(bashComplete('qctl lag --profile staging ', {XDG_CONFIG_HOME: config})).toEqual(['orders.eu', 'orders.us', 'payments', 'zones.parted'])
  })

  it('no topics, silently, without a connection configured', () => {
    expect(bashComplete('qctl lag ')).toEqual([])
  })
})

/** A TCP server that accepts connections and never answers: a Redis that hangs. */
async function silentServer(): Promise<{port: number; close: () => Promise<void>}> {
  const sockets: Socket[] = []
  const silent: Server = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const address = silent.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    },
  }
}

describe.concurrent('qctl __complete-topics (what the scripts call)', () => {
  it('prints the topics from a private Redis within its timeout, partitioned topics but not their streams', async () => {
    const all = ok(await runCli(['__complete-topics'], {env: {QCTL_REDIS_URL: withPassword(), QCTL_COMPLETION_TIMEOUT: SLOW_MACHINE_TIMEOUT}}))
    // Not the partitions' own streams, not the dead-letter stream of payments.
    expect(all.stdout).toBe('orders.eu\norders.us\npayments\nzones.parted\n')
    expect(all.stderr).toBe('')
    const prefixed = ok(await runCli(['__complete-topics', '--prefix=orders', '--timeout', SLOW_MACHINE_TIMEOUT], {env: {QCTL_REDIS_URL: withPassword()}}))
    expect(prefixed.stdout).toBe('orders.eu\norders.us\n')
  })

  it('prints nothing and exits 0 when Redis is unreachable, silent, refuses the password, or none is configured', async () => {
    const silent = await silentServer()
    try {
      const cases: Array<[string, Record<string, string>]> = [
        ['refused', {QCTL_REDIS_URL: `redis://127.0.0.1:${await freePort()}`}],
        ['silent (the timeout)', {QCTL_REDIS_URL: `redis://127.0.0.1:${silent.port}`}],
        ['a wrong password, with DEBUG=*', {QCTL_REDIS_URL: `redis://:${encodeURIComponent(`${PASSWORD}-x`)}@127.0.0.1:${server.port}`, DEBUG: '*'}],
        ['no connection configured', {}],
        ['an unknown profile', {QCTL_PROFILE: 'nope'}],
      ]
      for (const [what, env] of cases) {
        const result = await runCli(['__complete-topics'], {env})
        expect(result.code, what).toBe(0)
        expect(result.stdout, what).toBe('')
        if (env.DEBUG === undefined) expect(result.stderr, what).toBe('')
        expectNoPassword(result)
      }
    } finally {
      await silent.close()
    }
  })
})

/** zsh and fish, interactively: type a line, press TAB, read the screen. */
describe.concurrent('zsh and fish in a terminal', () => {
  const env = (): Record<string, string> => ({PATH: `${bin}:${process.env.PATH ?? ''}`, XDG_CACHE_HOME: cache, QCTL_REDIS_URL: withPassword(), QCTL_COMPLETION_TIMEOUT: SLOW_MACHINE_TIMEOUT})

  it.skipIf(!has('zsh') || !has('tmux'))('zsh completes topic names from Redis, and subcommands', async () => {
    const zdot = await mkdtemp(join(dir, 'zdot-'))
    await writeFile(join(zdot, '.zshrc'), `fpath=(${shellQuote(join(cache, 'qctl', 'autocomplete', 'functions', 'zsh'))} $fpath)\nautoload -Uz compinit && compinit -u -d ${shellQuote(join(zdot, 'zcompdump'))}\nPS1='> '\n`)
    const session = await TmuxSession.start('zsh', 'zsh -i', {cols: 120, rows: 30, env: {...env(), ZDOTDIR: zdot}})
    try {
      await session.waitForScreen((screen) => screen.includes('>'), 10_000, 'the zsh prompt')
      await session.sendKeys('qctl lag ', 'Tab')
      await session.waitForScreen((screen) => /orders\.eu\s+orders\.us\s+payments/.test(screen), 10_000, 'the topics')
      await session.sendKeys('C-c', 'qctl work handler.js --topic=pay', 'Tab')
      await session.waitForScreen((screen) => screen.includes('--topic=payments'), 10_000, 'the completed --topic=')
      await session.sendKeys('C-c', 'qctl dlq sh', 'Tab')
      await session.waitForScreen((screen) => screen.includes('qctl dlq show'), 10_000, 'the subcommand')
    } finally {
      await session.kill()
    }
  })

  it.skipIf(!has('fish') || !has('tmux'))('fish completes topic names from Redis, subcommands and flags with their summaries', async () => {
    const script = join(cache, 'qctl', 'autocomplete', 'functions', 'fish', 'qctl.fish')
    const session = await TmuxSession.start('fish', `fish --no-config -C ${shellQuote(`source ${shellQuote(script)}; function fish_prompt; echo '> '; end`)}`, {cols: 160, rows: 30, env: env()})
    try {
      await session.waitForScreen((screen) => screen.includes('>'), 10_000, 'the fish prompt')
      await session.sendKeys('qctl lag ', 'Tab')
      await session.waitForScreen((screen) => /orders\.eu\s+orders\.us\s+payments/.test(screen), 10_000, 'the topics')
      await session.sendKeys('Escape', 'C-u', 'qctl lag payments --max-l', 'Tab')
      await session.waitForScreen((screen) => screen.includes('qctl lag payments --max-lag'), 10_000, 'the flag')
      await session.sendKeys('C-u', 'qctl dlq ', 'Tab')
      await session.waitForScreen((screen) => /replay\s+\(Re-deliver dead-lettered entries/.test(screen), 10_000, 'the subcommands with summaries')
    } finally {
      await session.kill()
    }
  })
})
