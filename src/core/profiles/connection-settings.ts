import {notFoundError, QctlError} from '../errors.js'
import type {ConnectionInput} from '../redis/connection.js'
import {DEFAULT_REDIS_URL} from '../redis/redis-url.js'
import {closest} from '../closest.js'
import type {Profile, ProfilesFile} from './profile.js'

/** The connection flags as given on the command line (undefined, false or empty: not given). */
export interface ConnectionFlagValues {
  redisUrl?: readonly string[] | undefined
  /** `--cluster` (a boolean flag: false means not given). */
  cluster?: boolean | undefined
  clusterNat?: readonly string[] | undefined
  passwordFile?: string | undefined
  tlsCa?: string | undefined
  tlsCert?: string | undefined
  tlsKey?: string | undefined
  tlsInsecure?: boolean | undefined
  profile?: string | undefined
  connectTimeoutMs: number
  commandTimeoutMs?: number | undefined
}

/** How the profile in use was chosen. */
export type ProfileSource = '--profile' | '$QCTL_PROFILE' | 'qctl profile use'

export interface ConnectionSettings {
  input: ConnectionInput
  /** The profile whose settings are used, if any. */
  profile: {name: string; source: ProfileSource} | undefined
  /** Where the URL came from (`--redis-url`, `$QCTL_REDIS_URL`, `$REDIS_URL`, `profile "NAME"`, `default`). */
  urlSource: string
  /** For stderr: a chosen profile that is not used, and why. */
  warnings: string[]
}

/**
 * `$QCTL_REDIS_CLUSTER`: 1/true/yes a cluster, 0/false/no a single server (no HELLO question),
 * unset or empty: ask. Anything else is refused (exit 2), not guessed.
 */
export function clusterFromEnvironment(value: string | undefined): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined
  if (/^(1|true|yes)$/i.test(value.trim())) return true
  if (/^(0|false|no)$/i.test(value.trim())) return false
  throw new QctlError('USAGE', `invalid QCTL_REDIS_CLUSTER "${value}": expected 1 (a cluster) or 0 (a single server)`)
}

const given = (value: string | undefined): value is string => value !== undefined && value !== ''

/** The profile named by --profile, $QCTL_PROFILE or `qctl profile use`, if any (an unknown name is exit 6). */
function chosenProfile(flags: ConnectionFlagValues, env: NodeJS.ProcessEnv, file: ProfilesFile, path: string): {name: string; source: ProfileSource; profile: Profile} | undefined {
  const choice: {name: string; source: ProfileSource} | undefined = given(flags.profile)
    ? {name: flags.profile, source: '--profile'}
    : given(env.QCTL_PROFILE)
      ? {name: env.QCTL_PROFILE, source: '$QCTL_PROFILE'}
      : given(file.current)
        ? {name: file.current, source: 'qctl profile use'}
        : undefined
  if (choice === undefined) return undefined
  const profile = file.profiles[choice.name]
  if (profile === undefined) throw unknownProfileError(choice.name, Object.keys(file.profiles), choice.source === 'qctl profile use' ? `the current profile in ${path}` : choice.source)
  return {...choice, profile}
}

/** `profile "prd" does not exist (from --profile)`: exit 6, with the closest name or the list command as the hint. */
export function unknownProfileError(name: string, names: readonly string[], from?: string): QctlError {
  const meant = closest(name, names)
  const suggestion = meant === undefined ? (names.length === 0 ? 'no profiles exist yet: create one with qctl profile create' : 'see qctl profile list') : `did you mean "${meant}"? (see qctl profile list)`
  return notFoundError(`profile "${name}" does not exist${from === undefined ? '' : ` (from ${from})`}`, {suggestion, details: {profile: name}})
}

/**
 * The connection settings of a command, each from the first place that has it:
 * flags, then the environment, then the profile, then the defaults.
 *
 * A URL from a flag or the environment names another server than the profile's: the profile is
 * then not used at all (its password is never sent to a server it does not name, and its TLS files
 * do not apply to a plain-text URL), with a warning when a profile had been chosen. Otherwise every
 * other setting comes from a flag, else the environment, else the profile:
 *   cluster:   --cluster, $QCTL_REDIS_CLUSTER, the profile's `cluster`, else asked of the server
 *   password:  --password-file, $QCTL_REDIS_PASSWORD, the profile's password file, then its password,
 *              else the URL's
 *   TLS, NAT:  --tls-ca/--tls-cert/--tls-key/--tls-insecure and --cluster-nat, else the profile's
 * The profiles file is read only when a profile could be used (no URL from a flag, or --profile or
 * $QCTL_PROFILE given), so a command given a URL does not depend on the file.
 */
export async function connectionSettings(flags: ConnectionFlagValues, env: NodeJS.ProcessEnv, profiles: {path: string; load: () => Promise<ProfilesFile>}): Promise<ConnectionSettings> {
  const flagUrl = flags.redisUrl !== undefined && flags.redisUrl.length > 0 ? flags.redisUrl : undefined
  const envUrl = given(env.QCTL_REDIS_URL) ? {value: env.QCTL_REDIS_URL, source: '$QCTL_REDIS_URL'} : given(env.REDIS_URL) ? {value: env.REDIS_URL, source: '$REDIS_URL'} : undefined
  const explicit = given(flags.profile) || given(env.QCTL_PROFILE)
  const chosen = flagUrl === undefined || explicit ? chosenProfile(flags, env, await profiles.load(), profiles.path) : undefined
  const warnings: string[] = []

  const urlOverride = flagUrl !== undefined ? '--redis-url' : envUrl?.source
  const profile = chosen !== undefined && urlOverride === undefined ? chosen.profile : undefined
  if (chosen !== undefined && urlOverride !== undefined) {
    warnings.push(`${urlOverride} names the server, so profile "${chosen.name}" (from ${chosen.source}) is not used`)
  }

  const envPassword = given(env.QCTL_REDIS_PASSWORD) ? env.QCTL_REDIS_PASSWORD : undefined
  const envCluster = clusterFromEnvironment(env.QCTL_REDIS_CLUSTER)
  const input: ConnectionInput = {
    url: flagUrl ?? envUrl?.value ?? profile?.redisUrl ?? DEFAULT_REDIS_URL,
    cluster: flags.cluster === true ? true : (envCluster ?? profile?.cluster),
    clusterNat: flags.clusterNat !== undefined && flags.clusterNat.length > 0 ? flags.clusterNat : profile?.clusterNat,
    tlsCaFile: flags.tlsCa ?? profile?.tlsCa,
    tlsCertFile: flags.tlsCert ?? profile?.tlsCert,
    tlsKeyFile: flags.tlsKey ?? profile?.tlsKey,
    tlsInsecure: flags.tlsInsecure === true || profile?.tlsInsecure === true,
    connectTimeoutMs: flags.connectTimeoutMs,
    commandTimeoutMs: flags.commandTimeoutMs,
  }
  // One password source, the first given: a file named by a flag, the environment, then the profile's file or password.
  if (flags.passwordFile !== undefined) input.passwordFile = flags.passwordFile
  else if (envPassword !== undefined) input.password = envPassword
  else if (profile?.passwordFile !== undefined) input.passwordFile = profile.passwordFile
  else if (profile?.password !== undefined) input.password = profile.password

  const urlSource = flagUrl !== undefined ? '--redis-url' : envUrl !== undefined ? envUrl.source : profile !== undefined ? `profile "${chosen?.name}"` : 'default'
  return {input, profile: profile === undefined || chosen === undefined ? undefined : {name: chosen.name, source: chosen.source}, urlSource, warnings}
}
