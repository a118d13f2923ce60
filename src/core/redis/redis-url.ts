import {usageError} from '../errors.js'

/** Where and as whom to connect, parsed from a `redis://` or `rediss://` URL. */
export interface RedisTarget {
  host: string
  port: number
  db: number
  /** ACL user; `undefined` means Redis's `default` user. */
  username: string | undefined
  password: string | undefined
  tls: boolean
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

/**
 * Parse `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS).
 * Errors never echo the URL itself: it may hold a password.
 */
export function parseRedisUrl(text: string): RedisTarget {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw usageError('invalid --redis-url: expected redis://[user:password@]host:port[/db] or rediss://…')
  }

  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw usageError(`invalid --redis-url: scheme must be redis:// or rediss://, not ${url.protocol}//`)
  }

  const host = url.hostname.replace(/^\[(.*)]$/, '$1')
  if (host === '') throw usageError('invalid --redis-url: no host')

  const port = url.port === '' ? 6379 : Number(url.port)
  const dbText = url.pathname.replace(/^\//, '')
  if (dbText !== '' && !/^\d+$/.test(dbText)) {
    throw usageError(`invalid --redis-url: database must be a number, not "${dbText}"`)
  }

  return {
    host,
    port,
    db: dbText === '' ? 0 : Number(dbText),
    username: url.username === '' ? undefined : decodeCredential(url.username, 'user name'),
    password: url.password === '' ? undefined : decodeCredential(url.password, 'password'),
    tls: url.protocol === 'rediss:',
  }
}

/**
 * The URLs of `--redis-url` (repeatable) or `$QCTL_REDIS_URL`, each possibly a comma-separated
 * list (a cluster's seeds). A comma splits only where a new `redis://` or `rediss://` follows, so a
 * password with a comma in it stays whole. The seeds of one cluster share scheme (TLS or not),
 * credentials and database: the first URL that names credentials gives them to every seed; a
 * seed naming different ones is refused, as is a mix of TLS and plain text.
 */
export function parseRedisUrls(input: string | readonly string[]): RedisTarget[] {
  const texts = (typeof input === 'string' ? [input] : input).flatMap((text) => text.split(/,(?=\s*rediss?:\/\/)/).map((part) => part.trim()))
  const targets = texts.map((text) => parseRedisUrl(text))
  const [first] = targets
  if (first === undefined) throw usageError('invalid --redis-url: no URL given')
  const withCredentials = targets.find((target) => target.username !== undefined || target.password !== undefined)
  for (const target of targets) {
    if (target.tls !== first.tls) throw usageError('invalid --redis-url: the seed URLs mix redis:// and rediss:// (a cluster is all TLS or all plain text)')
    if (target.db !== first.db) throw usageError('invalid --redis-url: the seed URLs name different databases')
    const named = target.username !== undefined || target.password !== undefined
    if (named && withCredentials !== undefined && (target.username !== withCredentials.username || target.password !== withCredentials.password)) {
      throw usageError('invalid --redis-url: the seed URLs name different users or passwords (one user serves every node of a cluster)')
    }
  }
  if (withCredentials !== undefined) {
    for (const target of targets) {
      target.username = withCredentials.username
      target.password = withCredentials.password
    }
  }
  return targets
}

function decodeCredential(text: string, what: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw usageError(`invalid --redis-url: the ${what} has a malformed %-escape (encode special characters, e.g. @ as %40)`)
  }
}

/** `host:port`, with IPv6 hosts bracketed: what error messages name. */
export function formatAddress(target: Pick<RedisTarget, 'host' | 'port'>): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
}

/** The URL as it is safe to print: the password, if any, replaced by `***`. */
export function maskedUrl(target: RedisTarget): string {
  const scheme = target.tls ? 'rediss' : 'redis'
  const user = target.username === undefined ? '' : encodeURIComponent(target.username)
  const credentials = target.password === undefined ? (user === '' ? '' : `${user}@`) : `${user}:***@`
  const db = target.db === 0 ? '' : `/${target.db}`
  return `${scheme}://${credentials}${formatAddress(target)}${db}`
}

/**
 * Passwords embedded in URL-like strings (argv values, environment variables), so they can
 * be registered for redaction before anything is parsed or printed.
 */
export function passwordsInText(text: string): string[] {
  const found: string[] = []
  // Greedy up to the last "@", as the URL parser splits: a password may contain an unencoded "@".
  for (const match of text.matchAll(/rediss?:\/\/[^:/@\s]*:(\S+)@/g)) {
    const raw = match[1]
    if (raw === undefined) continue
    found.push(raw)
    try {
      found.push(decodeURIComponent(raw))
    } catch {
      // not percent-encoded: the raw form is the password
    }
  }
  return found
}
