import {inputError, usageError} from '../errors.js'

/**
 * A named connection (`qctl profile create`), as `rpk profile` and kafkactl contexts keep them: the
 * server's URL and what goes with it. File paths are absolute (the profile is used from any
 * directory). A password is kept in clear only when the user gave it explicitly (`--password`, or
 * in the URL); one read from a file is kept as the file's path.
 */
export interface Profile {
  /** One URL, or a cluster's seeds as a comma-separated list (as `$QCTL_REDIS_URL` takes them). */
  redisUrl: string
  /** true: a cluster; false: one server (no HELLO question); absent: ask. */
  cluster?: boolean
  clusterNat?: string[]
  passwordFile?: string
  /** Only when given explicitly; `profile create` warns that it is stored in clear. */
  password?: string
  tlsCa?: string
  tlsCert?: string
  tlsKey?: string
  tlsInsecure?: boolean
}

/** The profiles file (`profiles.json`), version 1. */
export interface ProfilesFile {
  version: 1
  /** The profile `qctl profile use` chose, used when neither --profile nor $QCTL_PROFILE names one. */
  current?: string
  profiles: Record<string, Profile>
}

export const emptyProfiles = (): ProfilesFile => ({version: 1, profiles: {}})

/** Names are what a user types after --profile: letters, digits, `.`, `_`, `-`; at most 64. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function checkProfileName(name: string): string {
  if (!NAME.test(name)) throw usageError(`invalid profile name "${name}": use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit)`)
  return name
}

const STRING_FIELDS = ['redisUrl', 'passwordFile', 'password', 'tlsCa', 'tlsCert', 'tlsKey'] as const
const BOOLEAN_FIELDS = ['cluster', 'tlsInsecure'] as const
const KNOWN_FIELDS = new Set<string>([...STRING_FIELDS, ...BOOLEAN_FIELDS, 'clusterNat'])

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The profiles file as read from disk, checked field by field: the file may have been edited by
 * hand, and a misspelt field (`passwordfile`) silently ignored would connect without a password.
 * Errors name the file and the field, never a value (it may be a password).
 */
export function parseProfilesFile(text: string, path: string): ProfilesFile {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw inputError(`cannot read profiles from ${path}: not valid JSON`, {suggestion: 'fix the file, or move it away and create the profiles again'})
  }
  const bad = (what: string): never => {
    throw inputError(`cannot read profiles from ${path}: ${what}`, {suggestion: 'fix the file, or move it away and create the profiles again'})
  }
  if (!isRecord(data)) return bad('expected a JSON object')
  if (data.version !== 1) return bad(typeof data.version === 'number' && data.version > 1 ? `version ${data.version} was written by a newer qctl` : 'missing or unknown "version"')
  if (data.current !== undefined && typeof data.current !== 'string') bad('"current" must be a string')
  if (!isRecord(data.profiles)) return bad('"profiles" must be an object')
  const profiles: Record<string, Profile> = {}
  for (const [name, value] of Object.entries(data.profiles)) {
    if (!NAME.test(name)) bad(`invalid profile name "${name}"`)
    if (!isRecord(value)) return bad(`profile "${name}" must be an object`)
    for (const field of Object.keys(value)) if (!KNOWN_FIELDS.has(field)) bad(`profile "${name}" has an unknown field "${field}"`)
    if (typeof value.redisUrl !== 'string' || value.redisUrl === '') bad(`profile "${name}" has no "redisUrl"`)
    for (const field of STRING_FIELDS) if (value[field] !== undefined && typeof value[field] !== 'string') bad(`profile "${name}": "${field}" must be a string`)
    for (const field of BOOLEAN_FIELDS) if (value[field] !== undefined && typeof value[field] !== 'boolean') bad(`profile "${name}": "${field}" must be true or false`)
    if (value.clusterNat !== undefined && !(Array.isArray(value.clusterNat) && value.clusterNat.every((item) => typeof item === 'string'))) {
      bad(`profile "${name}": "clusterNat" must be a list of FROM=TO strings`)
    }
    profiles[name] = value as unknown as Profile
  }
  const file: ProfilesFile = {version: 1, profiles}
  if (typeof data.current === 'string') file.current = data.current
  return file
}
