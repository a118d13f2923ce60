import {resolve} from 'node:path'

import {QctlError, usageError} from '../errors.js'
import {resolveConnection} from '../redis/connection.js'
import {maskedUrl, parseRedisUrls} from '../redis/redis-url.js'
import {unknownProfileError} from './connection-settings.js'
import {checkProfileName, type Profile, type ProfilesFile} from './profile.js'
import type {ProfileStore} from './store.js'

/** A profile as it is safe to show (`profile show`, `profile list`, `--json`): no password, in a URL or not. */
export interface ProfileView {
  name: string
  /** Chosen with `qctl profile use`. */
  current: boolean
  /** What a command uses when given no --profile and no URL: $QCTL_PROFILE's profile, else the current one. */
  inUse: boolean
  /** Passwords in it shown as `***`. */
  redisUrl: string
  /** true: a cluster; false: one server; null: asked of the server. */
  cluster: boolean | null
  clusterNat: string[]
  /** Where the password comes from: a file (its path is kept), `stored` in clear (in `password` or the URL), or none. */
  passwordSource: 'file' | 'stored' | 'none'
  passwordFile: string | null
  /** `***` when a password is stored in clear, else null. */
  password: '***' | null
  tlsCa: string | null
  tlsCert: string | null
  tlsKey: string | null
  tlsInsecure: boolean
}

/** The URL (or comma-separated seeds) with every password as `***`, even when it does not parse (a hand-edited file). */
export function maskedUrls(text: string): string {
  try {
    return parseRedisUrls(text).map((target) => maskedUrl(target)).join(',')
  } catch {
    // Greedy to the last "@" of each seed, as the URL parser reads a password with an unencoded "@".
    return text
      .split(/,(?=\s*rediss?:\/\/)/)
      .map((part) => part.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:).*@/i, '$1***@'))
      .join(',')
  }
}

const urlHasPassword = (text: string): boolean => {
  try {
    return parseRedisUrls(text).some((target) => target.password !== undefined)
  } catch {
    return /:\/\/[^:/@\s]*:[^@]*@/.test(text)
  }
}

/** The profile a command uses when it names none: $QCTL_PROFILE's, else the current one. */
export const profileInUse = (file: ProfilesFile, env: NodeJS.ProcessEnv): string | undefined =>
  env.QCTL_PROFILE !== undefined && env.QCTL_PROFILE !== '' ? env.QCTL_PROFILE : file.current

export function viewOf(name: string, profile: Profile, file: ProfilesFile, env: NodeJS.ProcessEnv): ProfileView {
  const stored = profile.password !== undefined || urlHasPassword(profile.redisUrl)
  return {
    name,
    current: file.current === name,
    inUse: profileInUse(file, env) === name,
    redisUrl: maskedUrls(profile.redisUrl),
    cluster: profile.cluster ?? null,
    clusterNat: profile.clusterNat ?? [],
    passwordSource: profile.passwordFile !== undefined ? 'file' : stored ? 'stored' : 'none',
    passwordFile: profile.passwordFile ?? null,
    password: stored ? '***' : null,
    tlsCa: profile.tlsCa ?? null,
    tlsCert: profile.tlsCert ?? null,
    tlsKey: profile.tlsKey ?? null,
    tlsInsecure: profile.tlsInsecure === true,
  }
}

export interface CreateProfileRequest {
  name: string
  redisUrl: readonly string[]
  cluster?: boolean | undefined
  clusterNat?: readonly string[] | undefined
  passwordFile?: string | undefined
  /** Given explicitly: stored in clear (the command warns). */
  password?: string | undefined
  tlsCa?: string | undefined
  tlsCert?: string | undefined
  tlsKey?: string | undefined
  tlsInsecure?: boolean | undefined
  /** Replace a profile of that name. */
  force: boolean
  /** Make it the current profile. */
  use: boolean
  /** Relative file paths are taken from here and stored absolute. */
  cwd: string
}

/** `qctl profile create --json`. */
export interface CreateProfileResult {
  path: string
  profile: ProfileView
  /** A profile of that name existed and was replaced (--force). */
  replaced: boolean
  /** A password is stored in clear in the file (given with --password or in the URL). */
  passwordInClear: boolean
}

/** The profile as it will be stored: files absolute, only what was given. */
function profileOf(request: CreateProfileRequest): Profile {
  const absolute = (path: string | undefined): string | undefined => (path === undefined ? undefined : resolve(request.cwd, path))
  const profile: Profile = {redisUrl: request.redisUrl.join(',')}
  if (request.cluster !== undefined) profile.cluster = request.cluster
  if (request.clusterNat !== undefined && request.clusterNat.length > 0) profile.clusterNat = [...request.clusterNat]
  const fields: Array<[keyof Profile, string | undefined]> = [
    ['passwordFile', absolute(request.passwordFile)],
    ['password', request.password],
    ['tlsCa', absolute(request.tlsCa)],
    ['tlsCert', absolute(request.tlsCert)],
    ['tlsKey', absolute(request.tlsKey)],
  ]
  for (const [field, value] of fields) if (value !== undefined) (profile as unknown as Record<string, unknown>)[field] = value
  if (request.tlsInsecure === true) profile.tlsInsecure = true
  return profile
}

/**
 * `qctl profile create NAME`: checked as a command would use it (URLs parse, TLS flags only with
 * rediss://, certificate and key together, the files readable), then written; nothing connects.
 */
export async function createProfile(store: ProfileStore, request: CreateProfileRequest, env: NodeJS.ProcessEnv): Promise<CreateProfileResult> {
  checkProfileName(request.name)
  if (request.redisUrl.length === 0) throw usageError('a profile needs --redis-url')
  if (request.password === '') throw usageError('--password must not be empty (leave it out for no password)')
  if (request.password !== undefined && request.passwordFile !== undefined) throw usageError('--password and --password-file do not go together: give one')
  const profile = profileOf(request)
  await resolveConnection({
    url: profile.redisUrl,
    cluster: profile.cluster,
    clusterNat: profile.clusterNat,
    password: profile.password,
    passwordFile: profile.passwordFile,
    tlsCaFile: profile.tlsCa,
    tlsCertFile: profile.tlsCert,
    tlsKeyFile: profile.tlsKey,
    tlsInsecure: profile.tlsInsecure,
    connectTimeoutMs: 1,
  })
  const file = await store.load()
  const replaced = file.profiles[request.name] !== undefined
  if (replaced && !request.force) {
    throw new QctlError('ALREADY_EXISTS', `profile "${request.name}" already exists`, {suggestion: `replace it with qctl profile create ${request.name} --force …, or delete it first`})
  }
  file.profiles[request.name] = profile
  if (request.use) file.current = request.name
  await store.save(file)
  return {path: store.path, profile: viewOf(request.name, profile, file, env), replaced, passwordInClear: profile.password !== undefined || urlHasPassword(profile.redisUrl)}
}

/** `qctl profile use --json`. */
export interface UseProfileResult {
  path: string
  /** The current profile now; null after `--none`. */
  current: string | null
  previous: string | null
}

/** `qctl profile use NAME` (or `--none`: no current profile, commands use the defaults). */
export async function useProfile(store: ProfileStore, name: string | undefined): Promise<UseProfileResult> {
  const file = await store.load()
  if (name !== undefined && file.profiles[name] === undefined) throw unknownProfileError(name, Object.keys(file.profiles))
  const previous = file.current ?? null
  if (name === undefined) delete file.current
  else file.current = name
  await store.save(file)
  return {path: store.path, current: name ?? null, previous}
}

/** `qctl profile list --json`. */
export interface ListProfilesResult {
  path: string
  current: string | null
  profiles: ProfileView[]
}

export async function listProfiles(store: ProfileStore, env: NodeJS.ProcessEnv): Promise<ListProfilesResult> {
  const file = await store.load()
  const names = Object.keys(file.profiles).sort()
  return {path: store.path, current: file.current ?? null, profiles: names.map((name) => viewOf(name, file.profiles[name] as Profile, file, env))}
}

/** `qctl profile show [NAME]`: the named profile, else the one in use. */
export async function showProfile(store: ProfileStore, name: string | undefined, env: NodeJS.ProcessEnv): Promise<ProfileView> {
  const file = await store.load()
  const wanted = name ?? profileInUse(file, env)
  if (wanted === undefined) throw usageError('no profile is in use: name one (qctl profile show NAME), or choose one with qctl profile use NAME')
  const profile = file.profiles[wanted]
  const from = name === undefined ? (env.QCTL_PROFILE !== undefined && env.QCTL_PROFILE !== '' ? '$QCTL_PROFILE' : `the current profile in ${store.path}`) : undefined
  if (profile === undefined) throw unknownProfileError(wanted, Object.keys(file.profiles), from)
  return viewOf(wanted, profile, file, env)
}

/** `qctl profile delete --json`. */
export interface DeleteProfileResult {
  path: string
  name: string
  deleted: boolean
  /** It was the current profile: there is none now. */
  wasCurrent: boolean
  /** Declined at the prompt: nothing changed. */
  cancelled?: true
}

/** Check before asking: the profile exists (exit 6 otherwise). */
export async function checkProfileExists(store: ProfileStore, name: string): Promise<void> {
  const file = await store.load()
  if (file.profiles[name] === undefined) throw unknownProfileError(name, Object.keys(file.profiles))
}

export async function deleteProfile(store: ProfileStore, name: string): Promise<DeleteProfileResult> {
  const file = await store.load()
  if (file.profiles[name] === undefined) throw unknownProfileError(name, Object.keys(file.profiles))
  delete file.profiles[name]
  const wasCurrent = file.current === name
  if (wasCurrent) delete file.current
  await store.save(file)
  return {path: store.path, name, deleted: true, wasCurrent}
}
