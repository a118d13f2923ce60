import {passwordsInText} from '../core/redis/redis-url.js'

/**
 * Last line of defence for secrets: once installed, every write to stdout and stderr (ours,
 * oclif's, a library's debug log) has registered secrets replaced by `***`. qctl never prints a
 * password on purpose; this guards against a library echoing one back (ioredis errors carry
 * AUTH arguments, its debug log prints them).
 */
const secrets = new Set<string>()
let sorted: string[] = []
let installed = false

/** Shorter strings would turn ordinary output into noise; such passwords are unsafe anyway. */
const MIN_SECRET_LENGTH = 3

export function registerSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH || secrets.has(secret)) return
  secrets.add(secret)
  // Longest first, so a secret that contains another is masked whole.
  sorted = [...secrets].sort((a, b) => b.length - a.length)
}

export function redact(text: string): string {
  let result = text
  for (const secret of sorted) {
    if (result.includes(secret)) result = result.split(secret).join('***')
  }
  return result
}

type Write = typeof process.stdout.write

function guard(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean
  const guarded = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (sorted.length === 0) return original(chunk, ...rest)
    if (typeof chunk === 'string') return original(redact(chunk), ...rest)
    if (chunk instanceof Uint8Array) return original(Buffer.from(redact(Buffer.from(chunk).toString('utf8'))), ...rest)
    return original(chunk, ...rest)
  }
  stream.write = guarded as Write
}

/** Register every password reachable from the environment and argv. */
function registerKnownSecrets(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  registerSecret(env.QCTL_REDIS_PASSWORD)
  for (const text of [env.QCTL_REDIS_URL, env.REDIS_URL, ...argv]) {
    if (text !== undefined) for (const secret of passwordsInText(text)) registerSecret(secret)
  }
}

/**
 * Called by bin/run.js before oclif starts, so that even oclif's own debug log of argv
 * (DEBUG=*) is redacted. Passwords read later (--password-file) are registered when read.
 */
export function guardSecrets(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): void {
  installRedaction()
  registerKnownSecrets(argv, env)
}

export function installRedaction(): void {
  if (installed) return
  installed = true
  guard(process.stdout)
  guard(process.stderr)
}
