import {spawnSync} from 'node:child_process'
import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {CreateProfileResult, DeleteProfileResult, ListProfilesResult, ProfileView, UseProfileResult} from '../../src/core/profiles/manage.js'
import {cleanEnv, CLI, inTerminal, jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {freePort, RedisServer} from '../helpers/redis-server.js'

/**
 * `qctl profile …` and `--profile` through the built CLI, each run with a config directory of its
 * own (XDG_CONFIG_HOME, or HOME): where the file goes and its mode, what is stored (never a
 * password read from a file or the environment), masking, the current profile, deletion, unknown
 * names, and the precedence of flags over the environment over the profile over the defaults.
 */

// Characters a URL must percent-encode: the raw and the encoded form are both watched for.
const PASSWORD = 'Pr0file:pw@9/x'
const WRONG = 'not-the-password'

let server: RedisServer
let dir: string
let deadPort: number
let counter = 0
let topic: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-profile-'))
  await writeFile(join(dir, 'pw-right'), `${PASSWORD}\n`)
  await writeFile(join(dir, 'pw-wrong'), `${WRONG}\n`)
  server = await RedisServer.start({args: ['--requirepass', PASSWORD]})
  deadPort = await freePort()
  const admin = await server.client({password: PASSWORD})
  topic = `profiles.${process.pid}`
  await admin.xadd(topic, '*', 'data', '{}')
  admin.disconnect()
})

afterAll(async () => {
  await server?.stop()
  if (dir !== undefined) await rm(dir, {recursive: true, force: true})
})

/** A config directory of its own, and a runner using it. */
async function home(): Promise<{config: string; qctl: (args: string[], env?: Record<string, string | undefined>) => Promise<CliResult>; file: string}> {
  const config = await mkdtemp(join(dir, `config-${++counter}-`))
  return {
    config,
    file: join(config, 'qctl', 'profiles.json'),
    qctl: async (args, env = {}) => runCli(args, {env: {XDG_CONFIG_HOME: config, ...env}}),
  }
}

const serverUrl = (): string => `redis://127.0.0.1:${server.port}`
const deadUrl = (): string => `redis://127.0.0.1:${deadPort}`
const withPassword = (password: string): string => `redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}`

function expectNoPassword(result: CliResult): void {
  const text = `${result.stdout}\n${result.stderr}`
  expect(text).not.toContain(PASSWORD)
  expect(text).not.toContain(encodeURIComponent(PASSWORD))
}

const ok = (result: CliResult): CliResult => {
  expect(result.code, `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0)
  return result
}

describe.concurrent('the profiles file', () => {
  it('is $XDG_CONFIG_HOME/qctl/profiles.json, mode 0600 in a 0700 directory, with the password file stored as an absolute path', async () => {
    const {qctl, file, config} = await home()
    // A relative --password-file, run from `dir`: stored absolute, so the profile works from anywhere.
    const result = ok(await runCli(['profile', 'create', 'staging', '-u', serverUrl(), '--password-file', 'pw-right', '--json'], {cwd: dir, env: {XDG_CONFIG_HOME: config}}))
    const created = jsonOf<CreateProfileResult>(result)
    expect(created).toMatchObject({path: file, replaced: false, passwordInClear: false, profile: {name: 'staging', passwordSource: 'file', passwordFile: join(dir, 'pw-right'), password: null}})
    expect(result.stderr).toBe('')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(join(config, 'qctl'))).mode & 0o777).toBe(0o700)
    const text = await readFile(file, 'utf8')
    expect(text).not.toContain(PASSWORD)
    expect(JSON.parse(text)).toEqual({version: 1, profiles: {staging: {redisUrl: serverUrl(), passwordFile: join(dir, 'pw-right')}}})
    // Written through a temporary file renamed over it: none is left behind.
    expect(await readdir(join(config, 'qctl'))).toEqual(['profiles.json'])
    // Used from another directory, by a command that connects.
    ok(await qctl(['lag', topic, '--profile', 'staging', '--json']))
  })

  it('stays mode 0600 when rewritten, whatever the umask', async () => {
    const {config, file} = await home()
    const env = {XDG_CONFIG_HOME: config}
    ok(await runCli(['profile', 'create', 'a', '-u', serverUrl()], {env}))
    // A permissive umask (0000) would make a plain write 0666.
    const run = spawnSync('sh', ['-c', 'umask 0000 && exec "$0" "$@"', process.execPath, CLI, 'profile', 'create', 'b', '-u', serverUrl()], {env: cleanEnv(env)})
    expect(run.status).toBe(0)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as {profiles: object}).profiles)).toEqual(['a', 'b'])
  })

  it('is ~/.config/qctl/profiles.json without XDG_CONFIG_HOME, and when XDG_CONFIG_HOME is relative (ignored, as XDG says)', async () => {
    for (const xdg of [undefined, 'relative/config']) {
      const fakeHome = await mkdtemp(join(dir, 'home-'))
      const result = ok(await runCli(['profile', 'create', 'local', '-u', serverUrl(), '--json'], {cwd: dir, env: {HOME: fakeHome, XDG_CONFIG_HOME: xdg}}))
      expect(jsonOf<CreateProfileResult>(result).path).toBe(join(fakeHome, '.config', 'qctl', 'profiles.json'))
      expect((await stat(join(fakeHome, '.config', 'qctl', 'profiles.json'))).mode & 0o777).toBe(0o600)
    }
  })

  it('a file that is not valid JSON exits 5 naming it, without echoing its content', async () => {
    const {qctl, file} = await home()
    ok(await qctl(['profile', 'create', 'a', '-u', serverUrl()]))
    await writeFile(file, `{"version": 1, "profiles": {"a": {"redisUrl": "redis://:${PASSWORD}@h"`)
    const result = await qctl(['profile', 'list'])
    expect(result.code).toBe(5)
    expect(result.stderr).toContain(`Error: cannot read profiles from ${file}: not valid JSON\n`)
    expectNoPassword(result)
  })
})

describe.concurrent('what a profile stores and shows', () => {
  it('--password is stored in clear, with a warning; show, list and --json mask it; it is never printed', async () => {
    const {qctl, file} = await home()
    const created = await qctl(['profile', 'create', 'clear', '-u', serverUrl(), '--password', PASSWORD], {DEBUG: '*'})
    ok(created)
    expect(created.stderr).toContain(`warning: the password of profile "clear" is stored in clear in ${file} (readable only by you, mode 0600)`)
    expectNoPassword(created)
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({profiles: {clear: {password: PASSWORD}}})

    const shown = ok(await qctl(['profile', 'show', 'clear']))
    expect(shown.stdout).toContain('password:     *** (stored in clear)\n')
    expectNoPassword(shown)
    const json = jsonOf<ProfileView>(ok(await qctl(['profile', 'show', 'clear', '--json'])))
    expect(json).toMatchObject({name: 'clear', passwordSource: 'stored', password: '***', redisUrl: serverUrl()})
    const list = ok(await qctl(['profile', 'list', '--json']))
    expectNoPassword(list)
    // And it works, with every output of a command using it free of the password (DEBUG=* too).
    const used = ok(await qctl(['lag', topic, '--profile', 'clear'], {DEBUG: '*'}))
    expect(used.stderr).toContain('ioredis:')
    expectNoPassword(used)
  })

  it('a password in the URL is stored (warned about) and masked in show and list, human and --json', async () => {
    const {qctl} = await home()
    const created = ok(await qctl(['profile', 'create', 'inurl', '-u', withPassword(PASSWORD), '--json']))
    expect(created.stderr).toContain('warning: the password of profile "inurl" is stored in clear')
    expect(jsonOf<CreateProfileResult>(created)).toMatchObject({passwordInClear: true, profile: {redisUrl: `redis://:***@127.0.0.1:${server.port}`, passwordSource: 'stored'}})
    expectNoPassword(created)
    for (const args of [['profile', 'show', 'inurl'], ['profile', 'show', 'inurl', '--json'], ['profile', 'list'], ['profile', 'list', '--json']]) {
      const result = ok(await qctl(args))
      expect(result.stdout).toContain(`redis://:***@127.0.0.1:${server.port}`)
      expectNoPassword(result)
    }
    ok(await qctl(['lag', topic, '--profile', 'inurl']))
  })

  it('$QCTL_REDIS_PASSWORD is never copied into a profile (a warning says to give --password-file)', async () => {
    const {qctl, file} = await home()
    const result = ok(await qctl(['profile', 'create', 'env', '-u', serverUrl()], {QCTL_REDIS_PASSWORD: PASSWORD}))
    expect(result.stderr).toContain('warning: $QCTL_REDIS_PASSWORD is not stored in profiles: give --password-file FILE to keep where the password is')
    expect(await readFile(file, 'utf8')).not.toContain(PASSWORD)
    expectNoPassword(result)
  })

  it('is checked as a command would use it, and nothing connects: TLS flags need rediss://, a missing file exits 6, a bad name exits 2', async () => {
    const {qctl, file} = await home()
    expect((await qctl(['profile', 'create', 'x', '-u', serverUrl(), '--tls-ca', join(dir, 'pw-right')])).stderr).toContain('Error: TLS flags need a rediss:// URL')
    const missing = await qctl(['profile', 'create', 'x', '-u', serverUrl(), '--password-file', join(dir, 'nope')])
    expect(missing.code).toBe(6)
    expect(missing.stderr).toBe(`Error: --password-file file not found: ${join(dir, 'nope')}\n`)
    const badName = await qctl(['profile', 'create', 'no spaces', '-u', serverUrl()])
    expect(badName.code).toBe(2)
    expect(badName.stderr).toContain('Error: invalid profile name "no spaces"')
    // A server that is down is fine: profiles are saved ahead of use.
    ok(await qctl(['profile', 'create', 'later', '-u', deadUrl()]))
    expect(Object.keys((JSON.parse(await readFile(file, 'utf8')) as {profiles: object}).profiles)).toEqual(['later'])
  })

  it('an existing name exits 9 (ALREADY_EXISTS) unless --force replaces it', async () => {
    const {qctl} = await home()
    ok(await qctl(['profile', 'create', 'p', '-u', deadUrl()]))
    const again = await qctl(['profile', 'create', 'p', '-u', serverUrl(), '--json'])
    expect(again.code).toBe(9)
    expect(jsonOf(again)).toMatchObject({error: {code: 'ALREADY_EXISTS', message: 'profile "p" already exists', exitCode: 9}})
    const replaced = jsonOf<CreateProfileResult>(ok(await qctl(['profile', 'create', 'p', '-u', serverUrl(), '--password-file', join(dir, 'pw-right'), '--force', '--json'])))
    expect(replaced).toMatchObject({replaced: true, profile: {redisUrl: serverUrl()}})
  })
})

describe.concurrent('choosing a profile', () => {
  it('use makes it current (list marks it, commands use it); --none stops; QCTL_PROFILE wins over the current one', async () => {
    const {qctl} = await home()
    ok(await qctl(['profile', 'create', 'dead', '-u', deadUrl()]))
    ok(await qctl(['profile', 'create', 'live', '-u', serverUrl(), '--password-file', join(dir, 'pw-right')]))
    expect(jsonOf<UseProfileResult>(ok(await qctl(['profile', 'use', 'live', '--json'])))).toMatchObject({current: 'live', previous: null})
    const list = ok(await qctl(['profile', 'list']))
    expect(list.stdout).toMatch(/^\s+NAME\s+URL\s+CLUSTER\s+PASSWORD\s+TLS\n\s+dead\s+redis:\/\/127\.0\.0\.1:\d+\s+ask\s+none\s+no\n\*\s+live\s+/)
    ok(await qctl(['lag', topic]))
    const listed = jsonOf<ListProfilesResult>(ok(await qctl(['profile', 'list', '--json'], {QCTL_PROFILE: 'dead'})))
    expect(listed.current).toBe('live')
    expect(listed.profiles.map((view) => [view.name, view.current, view.inUse])).toEqual([['dead', false, true], ['live', true, false]])
    const fromEnv = await qctl(['lag', topic], {QCTL_PROFILE: 'dead'})
    expect(fromEnv.code).toBe(3)
    expect(fromEnv.stderr).toContain(`127.0.0.1:${deadPort}`)
    expect(ok(await qctl(['profile', 'show'], {QCTL_PROFILE: 'dead'})).stdout).toContain('profile:      dead (in use, from $QCTL_PROFILE)\n')
    expect(ok(await qctl(['profile', 'use', 'dead'])).stdout).toBe('now using profile "dead" (was "live")\n')
    expect(ok(await qctl(['profile', 'use', '--none'])).stdout).toBe('stopped using profile "dead": commands use their flags, the environment and the defaults\n')
    const none = await qctl(['profile', 'show'])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('Error: no profile is in use')
  })

  it('an unknown profile is one line and exit 6, from --profile, $QCTL_PROFILE, profile use and show, with the closest name as a hint', async () => {
    const {qctl, file} = await home()
    ok(await qctl(['profile', 'create', 'staging', '-u', deadUrl()]))
    const flag = await qctl(['lag', '--profile', 'stagin'])
    expect(flag.code).toBe(6)
    expect(flag.stderr).toBe('Error: profile "stagin" does not exist (from --profile)\nHint: did you mean "staging"? (see qctl profile list)\n')
    const env = await qctl(['inspect', topic, '--json'], {QCTL_PROFILE: 'prod'})
    expect(env.code).toBe(6)
    expect(jsonOf(env)).toEqual({error: {code: 'NOT_FOUND', message: 'profile "prod" does not exist (from $QCTL_PROFILE)', exitCode: 6, suggestion: 'see qctl profile list', details: {profile: 'prod'}}})
    for (const args of [['profile', 'use', 'prod'], ['profile', 'show', 'prod'], ['profile', 'delete', 'prod', '--yes']]) {
      const result = await qctl(args)
      expect(result.code, args.join(' ')).toBe(6)
      expect(result.stderr).toBe('Error: profile "prod" does not exist\nHint: see qctl profile list\n')
    }
    // A current profile deleted by hand from the file.
    await writeFile(file, JSON.stringify({version: 1, current: 'gone', profiles: {}}))
    const current = await qctl(['lag'])
    expect(current.code).toBe(6)
    expect(current.stderr).toContain(`Error: profile "gone" does not exist (from the current profile in ${file})\n`)
  })

  it('delete asks on a terminal (no keeps it, yes deletes it), needs --yes otherwise, and clears the current profile', async () => {
    const {qctl, config} = await home()
    ok(await qctl(['profile', 'create', 'old', '-u', deadUrl(), '--use']))
    const refused = await qctl(['profile', 'delete', 'old'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe('Error: refusing to delete profile "old" without confirmation: no terminal to ask on; pass --yes\n')
    const declined = await inTerminal(['profile', 'delete', 'old'], 'n\n', {XDG_CONFIG_HOME: config})
    expect(declined.code).toBe(0)
    expect(declined.output).toContain('Delete profile "old"? [y/N]')
    expect(declined.output).toContain('kept profile "old": nothing changed')
    expect(jsonOf<ListProfilesResult>(ok(await qctl(['profile', 'list', '--json']))).profiles.map((view) => view.name)).toEqual(['old'])
    const accepted = await inTerminal(['profile', 'delete', 'old'], 'y\n', {XDG_CONFIG_HOME: config})
    expect(accepted.code).toBe(0)
    expect(accepted.output).toContain('deleted profile "old"')
    expect(accepted.output).toContain('it was the current profile: commands now use their flags, the environment and the defaults')
    expect(jsonOf<ListProfilesResult>(ok(await qctl(['profile', 'list', '--json'])))).toMatchObject({current: null, profiles: []})
    ok(await qctl(['profile', 'create', 'other', '-u', deadUrl()]))
    expect(jsonOf<DeleteProfileResult>(ok(await qctl(['profile', 'delete', 'other', '--yes', '--json'])))).toMatchObject({name: 'other', deleted: true, wasCurrent: false})
  })
})

/**
 * Precedence, one level against the next: flags > environment > profile > defaults. The losing
 * source always names a server that is down (or a wrong password), so a run that succeeds shows
 * which source won, and a failure names the address it tried.
 */
describe.concurrent('precedence: flags, then the environment, then the profile, then the defaults', () => {
  interface Row {
    setting: string
    profile: string[]
    args: string[]
    env: Record<string, string>
    /** 0, or the exit code and a piece of stderr. */
    expected: 0 | {code: number; stderr: string}
  }
  // Placeholders, resolved once the server is up: SERVER (no password), SERVER+PW / SERVER+WRONG (a password in the URL), DEAD, PW_RIGHT / PW_WRONG (password files).
  const rows: Array<[string, Row]> = [
    ['URL: --redis-url over $QCTL_REDIS_URL', {setting: 'url', profile: ['-u', 'DEAD'], args: ['-u', 'SERVER+PW'], env: {QCTL_REDIS_URL: 'DEAD'}, expected: 0}],
    ['URL: $QCTL_REDIS_URL over $REDIS_URL and the profile', {setting: 'url', profile: ['-u', 'DEAD'], args: [], env: {QCTL_REDIS_URL: 'SERVER+PW', REDIS_URL: 'DEAD'}, expected: 0}],
    ['URL: $REDIS_URL over the profile', {setting: 'url', profile: ['-u', 'DEAD'], args: [], env: {REDIS_URL: 'SERVER+PW'}, expected: 0}],
    ['URL: the profile over the default', {setting: 'url', profile: ['-u', 'DEAD'], args: [], env: {}, expected: {code: 3, stderr: 'cannot connect to DEAD_ADDRESS'}}],
    ['password: --password-file over $QCTL_REDIS_PASSWORD', {setting: 'password', profile: ['-u', 'SERVER', '--password', WRONG], args: ['--password-file', 'PW_RIGHT'], env: {QCTL_REDIS_PASSWORD: WRONG}, expected: 0}],
    ['password: $QCTL_REDIS_PASSWORD over the profile', {setting: 'password', profile: ['-u', 'SERVER', '--password-file', 'PW_WRONG'], args: [], env: {QCTL_REDIS_PASSWORD: PASSWORD}, expected: 0}],
    ["password: the profile's password file over its URL's password", {setting: 'password', profile: ['-u', 'SERVER+WRONG', '--password-file', 'PW_RIGHT'], args: [], env: {}, expected: 0}],
    ["password: the profile's over none (the default)", {setting: 'password', profile: ['-u', 'SERVER', '--password', PASSWORD], args: [], env: {}, expected: 0}],
    ['cluster: --cluster over $QCTL_REDIS_CLUSTER=0', {setting: 'cluster', profile: ['-u', 'SERVER', '--password-file', 'PW_RIGHT'], args: ['--cluster'], env: {QCTL_REDIS_CLUSTER: '0'}, expected: {code: 2, stderr: 'Error: '}}],
    ["cluster: $QCTL_REDIS_CLUSTER=0 over the profile's --cluster", {setting: 'cluster', profile: ['-u', 'SERVER', '--password-file', 'PW_RIGHT', '--cluster'], args: [], env: {QCTL_REDIS_CLUSTER: '0'}, expected: 0}],
    ["cluster: the profile's --cluster over asking the server", {setting: 'cluster', profile: ['-u', 'SERVER', '--password-file', 'PW_RIGHT', '--cluster'], args: [], env: {}, expected: {code: 2, stderr: 'Error: '}}],
  ]

  const resolved = (text: string): string =>
    ({
      SERVER: serverUrl(),
      'SERVER+PW': withPassword(PASSWORD),
      'SERVER+WRONG': withPassword(WRONG),
      DEAD: deadUrl(),
      PW_RIGHT: join(dir, 'pw-right'),
      PW_WRONG: join(dir, 'pw-wrong'),
    })[text] ?? text.replace('DEAD_ADDRESS', `127.0.0.1:${deadPort}`)

  it.each(rows)('%s', async (_title, row) => {
    const {qctl} = await home()
    ok(await qctl(['profile', 'create', 'p', ...row.profile.map(resolved), '--use']))
    const env = Object.fromEntries(Object.entries(row.env).map(([name, value]) => [name, resolved(value)]))
    const result = await qctl(['lag', topic, ...row.args.map(resolved)], env)
    const diagnosis = `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`
    expectNoPassword(result)
    if (row.expected === 0) expect(result.code, diagnosis).toBe(0)
    else {
      expect(result.code, diagnosis).toBe(row.expected.code)
      expect(result.stderr, diagnosis).toContain(resolved(row.expected.stderr))
    }
  })

  it('a URL from a flag or the environment means another server: the profile is not used at all (its password is not sent), with a warning when it was chosen', async () => {
    const {qctl} = await home()
    ok(await qctl(['profile', 'create', 'p', '-u', deadUrl(), '--password-file', join(dir, 'pw-right')]))
    // The profile's password would let this in: it is not used, so Redis asks for one (exit 4).
    const chosen = await qctl(['lag', topic, '--profile', 'p', '-u', serverUrl()])
    expect(chosen.code).toBe(4)
    expect(chosen.stderr).toContain('warning: --redis-url names the server, so profile "p" (from --profile) is not used\n')
    const fromEnv = await qctl(['lag', topic], {QCTL_PROFILE: 'p', QCTL_REDIS_URL: serverUrl()})
    expect(fromEnv.code).toBe(4)
    expect(fromEnv.stderr).toContain('warning: $QCTL_REDIS_URL names the server, so profile "p" (from $QCTL_PROFILE) is not used\n')
    // The current profile and a URL flag: the flag is the choice, nothing to warn about.
    ok(await qctl(['profile', 'use', 'p']))
    const quiet = await qctl(['lag', topic, '-u', withPassword(PASSWORD)])
    expect(quiet.code).toBe(0)
    expect(quiet.stderr).toBe('')
  })
})
