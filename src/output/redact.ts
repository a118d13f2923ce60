import {passwordsInText} from '../core/redis/redis-url.js'

/**
 * Last line of defence for secrets: once installed, every write to stdout and stderr (ours,
 * oclif's, a library's debug log) has passwords masked as `***` where they appear as credentials.
 * qctl never prints a password on purpose; this guards against a library echoing one back
 * (oclif's debug log prints argv with the URL, ioredis's prints `auth([ 'secret' ])`).
 *
 * Masked by context, not by searching the text for the password: a password of any length is
 * masked where it is a credential, and a short password that is also a word ("wrong") does not
 * turn "wrong password" into "*** password". The contexts (README, "Configuration"):
 *   - a URL's password: `redis://user:***@host`, `rediss://:***@host` (any password, known or not);
 *   - the arguments of an AUTH or HELLO command as ioredis logs them: `auth(***)`, `hello(***)`;
 *   - on a line with the command word AUTH (a server or proxy echoing the command): known passwords;
 *   - a known password assigned to a name containing PASSWORD (`QCTL_REDIS_PASSWORD=***`), or as a
 *     `password` property in logged objects (`password: '***'`, quotes kept);
 *   - a known password as the value of a `--password` flag (`profile create`), also as argv is logged
 *     (`'--password', '***'`).
 */
const secrets = new Set<string>()
let sorted: string[] = []
let installed = false

export function registerSecret(secret: string | undefined): void {
  if (secret === undefined || secret === '' || secrets.has(secret)) return
  secrets.add(secret)
  // Longest first, so a secret that contains another is masked whole.
  sorted = [...secrets].sort((a, b) => b.length - a.length)
}

const MASK = '***'

/** Known passwords in `span` masked (the span is already known to be a credential context), as whole words only. */
const maskKnown = (span: string): string => span.replace(/[^\s'"`,()[\]]+/g, (word) => (secrets.has(word) ? MASK : word))

/**
 * A URL's password: from the scheme's "//user:" to the "@" that ends the authority, greedy over "@"
 * (a password may contain an unencoded "@") but never past "/", "?", "#", quotes or whitespace, so
 * `http://billing:8080/hook … bob@example.com` is not read as a password. The scheme is at most 32
 * characters, and must not follow another scheme character: every regex here runs in time linear in
 * the line, however hostile the text printed (a payload in `dlq show`).
 */
const URL_PASSWORD = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/[^:/@\s]{0,256}:)([^\s/?#"'<>]*)(@)/gi
const COMMAND_ARGUMENTS = /\b(auth|hello)\((\[[^[\]\n]*\]|[^()\n]*)\)/gi
const AUTH_LINE = /\bAUTH\b[^\n]*/g
/** Values assigned to a PASSWORD name, or a `password` property: masked only when they are a known password (so `--json` of a payload with a `password` field stays exact and valid). */
const PASSWORD_ASSIGNMENT = /(?<![A-Z0-9_])([A-Z0-9_]{0,64}PASSWORD[A-Z0-9_]{0,64}=)("[^"\n]*"|'[^'\n]*'|\S+)/g
/** The value after a `--password` flag (`--password X`, `--password=X`, and argv as oclif's debug log prints it: `'--password', 'X'`), masked when it is a known password. */
const PASSWORD_FLAG = /(--password(?![\w-])['"]?(?:\s*,\s*|\s+|=))("[^"\n]*"|'[^'\n]*'|[^\s,'"\]]+)/g
const PASSWORD_PROPERTY = /(["']?password["']?\s*:\s*)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[^\s,}]+)/gi

/** `value` (quoted or not) masked when it is a known password, keeping its quotes. */
function maskIfKnown(value: string): string {
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : ''
  const bare = quote === '' ? value : value.slice(1, -1)
  return secrets.has(bare) ? `${quote}${MASK}${quote}` : value
}

export function redact(text: string): string {
  if (!/:\/\/|auth|hello|password/i.test(text)) return text
  return text
    .replace(URL_PASSWORD, (_match, head: string, password: string, at: string) => (password === '' ? `${head}${at}` : `${head}${MASK}${at}`))
    .replace(COMMAND_ARGUMENTS, (_match, name: string) => `${name}(${MASK})`)
    .replace(AUTH_LINE, maskKnown)
    .replace(PASSWORD_ASSIGNMENT, (_match, name: string, value: string) => `${name}${maskIfKnown(value)}`)
    .replace(PASSWORD_PROPERTY, (_match, name: string, value: string) => `${name}${maskIfKnown(value)}`)
    .replace(PASSWORD_FLAG, (_match, flag: string, value: string) => `${flag}${maskIfKnown(value)}`)
}

type Write = typeof process.stdout.write

function guard(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean
  const guarded = (chunk: unknown, ...rest: unknown[]): boolean => {
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
  // `qctl profile create NAME --password SECRET` (or --password=SECRET): known before oclif logs argv.
  argv.forEach((arg, index) => {
    if (arg === '--password') registerSecret(argv[index + 1])
    else if (arg.startsWith('--password=')) registerSecret(arg.slice('--password='.length))
  })
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
