import {describe, expect, it} from 'vitest'

import {connectionSettings, type ConnectionFlagValues} from '../../src/core/profiles/connection-settings.js'
import {parseProfilesFile, type Profile, type ProfilesFile} from '../../src/core/profiles/profile.js'
import {maskedUrls} from '../../src/core/profiles/manage.js'
import {profilesPath} from '../../src/core/profiles/store.js'

/** Each connection setting from a flag, else the environment, else the profile, else the default: one level against the next. */

const FULL: Profile = {
  redisUrl: 'rediss://app@profile-host:6380',
  cluster: true,
  clusterNat: ['10.0.0.1:6379=127.0.0.1:7000'],
  passwordFile: '/profile/pw',
  tlsCa: '/profile/ca.pem',
  tlsCert: '/profile/cert.pem',
  tlsKey: '/profile/key.pem',
  tlsInsecure: true,
}

/** The password settings, present or not (an absent key and an undefined one alike). */
const secretsOf = (input: {password?: string | undefined; passwordFile?: string | undefined}) => ({password: input.password, passwordFile: input.passwordFile})

const fileWith = (profiles: Record<string, Profile>, current?: string): ProfilesFile => ({version: 1, profiles, ...(current === undefined ? {} : {current})})

async function settings(flags: Partial<ConnectionFlagValues>, env: NodeJS.ProcessEnv, file: ProfilesFile = fileWith({p: FULL}, 'p')) {
  let loads = 0
  const result = await connectionSettings({connectTimeoutMs: 5000, ...flags}, env, {
    path: '/home/u/.config/qctl/profiles.json',
    load: async () => {
      loads++
      return file
    },
  })
  return {...result, loads}
}

describe('connection settings: flags > environment > profile > defaults', () => {
  it.each([
    ['--redis-url over everything', {redisUrl: ['redis://flag:1']}, {QCTL_REDIS_URL: 'redis://env:2', REDIS_URL: 'redis://generic:3'}, ['redis://flag:1'], '--redis-url'],
    ['$QCTL_REDIS_URL over $REDIS_URL and the profile', {}, {QCTL_REDIS_URL: 'redis://env:2', REDIS_URL: 'redis://generic:3'}, 'redis://env:2', '$QCTL_REDIS_URL'],
    ['$REDIS_URL over the profile', {}, {REDIS_URL: 'redis://generic:3'}, 'redis://generic:3', '$REDIS_URL'],
    ['the profile over the default', {}, {}, FULL.redisUrl, 'profile "p"'],
  ])('URL: %s', async (_title, flags, env, url, source) => {
    const result = await settings(flags, env)
    expect(result.input.url).toEqual(url)
    expect(result.urlSource).toBe(source)
  })

  it('URL: the default without flag, environment or profile; the file is read (and empty)', async () => {
    const result = await settings({}, {}, fileWith({}))
    expect(result).toMatchObject({input: {url: 'redis://127.0.0.1:6379', cluster: undefined, tlsInsecure: false}, urlSource: 'default', profile: undefined, warnings: [], loads: 1})
  })

  it('a URL flag without --profile or $QCTL_PROFILE never reads the profiles file', async () => {
    expect((await settings({redisUrl: ['redis://flag:1']}, {})).loads).toBe(0)
  })

  it('every other setting of the profile applies when its URL is used', async () => {
    const result = await settings({}, {})
    expect(result.profile).toEqual({name: 'p', source: 'qctl profile use'})
    expect(result.input).toMatchObject({cluster: true, clusterNat: FULL.clusterNat, passwordFile: '/profile/pw', tlsCaFile: '/profile/ca.pem', tlsCertFile: '/profile/cert.pem', tlsKeyFile: '/profile/key.pem', tlsInsecure: true})
  })

  it('a URL from a flag or the environment: none of the profile applies (its password is not sent elsewhere), warned when it was chosen', async () => {
    for (const [flags, env, warning] of [
      [{redisUrl: ['redis://flag:1'], profile: 'p'}, {}, '--redis-url names the server, so profile "p" (from --profile) is not used'],
      [{}, {QCTL_REDIS_URL: 'redis://env:2'}, '$QCTL_REDIS_URL names the server, so profile "p" (from qctl profile use) is not used'],
      [{}, {REDIS_URL: 'redis://generic:3', QCTL_PROFILE: 'p'}, '$REDIS_URL names the server, so profile "p" (from $QCTL_PROFILE) is not used'],
    ] as const) {
      const result = await settings(flags, env)
      expect(result.profile).toBeUndefined()
      expect(secretsOf(result.input)).toEqual({password: undefined, passwordFile: undefined})
      expect(result.input).toMatchObject({cluster: undefined, clusterNat: undefined, tlsCaFile: undefined, tlsInsecure: false})
      expect(result.warnings).toEqual([warning])
    }
    // The current profile and a URL flag: the flag is the choice made now, no warning (and no reading).
    expect((await settings({redisUrl: ['redis://flag:1']}, {})).warnings).toEqual([])
  })

  it.each([
    ['--password-file over $QCTL_REDIS_PASSWORD and the profile', {passwordFile: '/flag/pw'}, {QCTL_REDIS_PASSWORD: 'env-pw'}, {passwordFile: '/flag/pw', password: undefined}],
    ['$QCTL_REDIS_PASSWORD over the profile', {}, {QCTL_REDIS_PASSWORD: 'env-pw'}, {passwordFile: undefined, password: 'env-pw'}],
    ['the profile\'s file', {}, {}, {passwordFile: '/profile/pw', password: undefined}],
  ])('password: %s', async (_title, flags, env, expected) => {
    expect(secretsOf((await settings(flags, env)).input)).toEqual(expected)
  })

  it('password: a profile\'s clear password when it has no file; none at all (the URL\'s, if any) without a profile', async () => {
    expect((await settings({}, {}, fileWith({p: {redisUrl: 'redis://h:1', password: 'clear'}}, 'p'))).input.password).toBe('clear')
    expect(secretsOf((await settings({}, {}, fileWith({}))).input)).toEqual({password: undefined, passwordFile: undefined})
  })

  it.each([
    ['--cluster over $QCTL_REDIS_CLUSTER=0', {cluster: true}, {QCTL_REDIS_CLUSTER: '0'}, true],
    ['$QCTL_REDIS_CLUSTER=0 over the profile', {}, {QCTL_REDIS_CLUSTER: '0'}, false],
    ['the profile over asking', {}, {}, true],
  ])('cluster: %s', async (_title, flags, env, cluster) => {
    expect((await settings(flags, env)).input.cluster).toBe(cluster)
  })

  it('TLS and NAT: flags over the profile, field by field', async () => {
    const result = await settings({tlsCa: '/flag/ca.pem', clusterNat: ['a:1=b:2']}, {})
    expect(result.input).toMatchObject({tlsCaFile: '/flag/ca.pem', tlsCertFile: '/profile/cert.pem', clusterNat: ['a:1=b:2']})
  })

  it('the profile: --profile over $QCTL_PROFILE over the current one; an unknown one exits 6 naming where it came from', async () => {
    const file = fileWith({a: {redisUrl: 'redis://a:1'}, b: {redisUrl: 'redis://b:1'}, c: {redisUrl: 'redis://c:1'}}, 'c')
    expect((await settings({profile: 'a'}, {QCTL_PROFILE: 'b'}, file)).profile).toEqual({name: 'a', source: '--profile'})
    expect((await settings({}, {QCTL_PROFILE: 'b'}, file)).profile).toEqual({name: 'b', source: '$QCTL_PROFILE'})
    expect((await settings({}, {}, file)).profile).toEqual({name: 'c', source: 'qctl profile use'})
    await expect(settings({profile: 'aa'}, {}, file)).rejects.toMatchObject({code: 'NOT_FOUND', exitCode: 6, message: 'profile "aa" does not exist (from --profile)', suggestion: 'did you mean "a"? (see qctl profile list)'})
    await expect(settings({}, {QCTL_PROFILE: 'zzzz'}, file)).rejects.toMatchObject({message: 'profile "zzzz" does not exist (from $QCTL_PROFILE)', suggestion: 'see qctl profile list'})
    // An unknown profile named explicitly fails even when a URL flag would make it unused.
    await expect(settings({profile: 'zzzz', redisUrl: ['redis://flag:1']}, {}, file)).rejects.toMatchObject({exitCode: 6})
  })
})

describe('profiles file and path', () => {
  it('XDG_CONFIG_HOME when absolute, else ~/.config', () => {
    expect(profilesPath({XDG_CONFIG_HOME: '/x'}, '/home/u', 'linux')).toBe('/x/qctl/profiles.json')
    expect(profilesPath({XDG_CONFIG_HOME: 'relative'}, '/home/u', 'linux')).toBe('/home/u/.config/qctl/profiles.json')
    expect(profilesPath({}, '/home/u', 'darwin')).toBe('/home/u/.config/qctl/profiles.json')
  })

  it('a hand-edited file is checked field by field; errors name the field, never a value', () => {
    expect(() => parseProfilesFile('{"version":1,"profiles":{"p":{"redisUrl":"redis://h","passwordfile":"/x"}}}', '/f')).toThrow('cannot read profiles from /f: profile "p" has an unknown field "passwordfile"')
    expect(() => parseProfilesFile('{"version":2,"profiles":{}}', '/f')).toThrow('version 2 was written by a newer qctl')
    expect(() => parseProfilesFile('{"version":1,"profiles":{"p":{"redisUrl":"redis://h","cluster":"yes"}}}', '/f')).toThrow('"cluster" must be true or false')
    expect(() => parseProfilesFile('{"version":1,"profiles":{"p":{"redisUrl":"redis://h","password":7}}}', '/f')).toThrow('"password" must be a string')
  })

  it('masks every password of a URL list, even one that does not parse', () => {
    expect(maskedUrls('redis://u:s3cret@h:1,redis://h2:2')).toBe('redis://u:***@h:1,redis://u:***@h2:2')
    expect(maskedUrls('redis://u:s3%ZZcret@h:1')).toBe('redis://u:***@h:1')
  })
})
