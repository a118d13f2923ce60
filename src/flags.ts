import {Flags} from './cli/oclif.js'
import {DEFAULT_COMMAND_TIMEOUT_MS} from './core/redis/connection.js'
import {parseBytes, parseDuration} from './core/units.js'

/** A duration flag (`5s`, `500ms`, `2m`) whose value is milliseconds. */
export const durationFlag = Flags.custom<number>({
  parse: async (input) => parseDuration(input),
  helpValue: '<duration>',
})

/** A byte-size flag (`1MiB`, `512KiB`, `1048576`) whose value is bytes. */
export const bytesFlag = Flags.custom<number>({
  parse: async (input) => parseBytes(input),
  helpValue: '<size>',
})

/** Flags for reaching Redis, shared by every command. */
export const connectionFlags = {
  profile: Flags.string({
    summary: 'Connect with this profile\'s settings (qctl profile create); also $QCTL_PROFILE.',
    description:
      'Without it (and without $QCTL_PROFILE), the profile chosen with qctl profile use, if any. Each setting comes from a flag, else the environment, else the profile, else the default; a URL from --redis-url, $QCTL_REDIS_URL or $REDIS_URL names another server, and the profile is then not used at all. An unknown profile exits 6.',
    helpGroup: 'CONNECTION',
    helpValue: '<name>',
  }),
  'redis-url': Flags.string({
    char: 'u',
    summary: 'Redis URL: redis://[user:password@]host:port[/db], or rediss:// for TLS.',
    description:
      'Defaults to $QCTL_REDIS_URL, then $REDIS_URL, then the profile\'s URL (--profile), then redis://127.0.0.1:6379. The password is never printed. For a Redis Cluster, repeat it (or give a comma-separated list) to name several seed nodes.',
    helpGroup: 'CONNECTION',
    helpValue: '<url>',
    multiple: true,
    // One value per flag (`-u A -u B`): a greedy list would swallow the command's arguments.
    multipleNonGreedy: true,
  }),
  cluster: Flags.boolean({
    summary: 'The URL names a Redis Cluster (or Valkey cluster) node; also $QCTL_REDIS_CLUSTER=1.',
    description:
      'Without it qctl asks the first node (HELLO, which any user may run) and uses cluster mode when it says so; $QCTL_REDIS_CLUSTER=0 skips that question and means a single server.',
    helpGroup: 'CONNECTION',
  }),
  'cluster-nat': Flags.string({
    summary: 'Reach the cluster node the cluster announces as FROM (host:port) at TO (host:port) instead; repeatable.',
    description: 'For clusters behind NAT or in containers, whose nodes announce addresses this host cannot reach.',
    helpGroup: 'CONNECTION',
    helpValue: '<from=to>',
    multiple: true,
    // One value per flag (`-u A -u B`): a greedy list would swallow the command's arguments.
    multipleNonGreedy: true,
  }),
  'password-file': Flags.string({
    summary: 'Read the Redis password from this file (overrides the URL, $QCTL_REDIS_PASSWORD and the profile).',
    helpGroup: 'CONNECTION',
    helpValue: '<file>',
  }),
  'tls-ca': Flags.string({summary: 'CA certificate (PEM) to verify the server with.', helpGroup: 'CONNECTION', helpValue: '<file>'}),
  'tls-cert': Flags.string({summary: 'Client certificate (PEM) for mutual TLS.', helpGroup: 'CONNECTION', helpValue: '<file>'}),
  'tls-key': Flags.string({summary: 'Private key (PEM) of the client certificate.', helpGroup: 'CONNECTION', helpValue: '<file>'}),
  'tls-insecure': Flags.boolean({
    summary: 'Do not verify the server certificate (prints a warning; for testing only).',
    helpGroup: 'CONNECTION',
  }),
  'connect-timeout': durationFlag({
    summary: 'Give up connecting after this long.',
    default: 5000,
    defaultHelp: async () => '5s',
    helpGroup: 'CONNECTION',
  }),
  'command-timeout': Flags.custom<number>({
    parse: async (input) => {
      const ms = parseDuration(input)
      if (ms <= 0) throw new Error(`invalid duration "${input}": the command timeout must be more than 0`)
      return ms
    },
    helpValue: '<duration>',
    summary: 'Give up (exit 3) when Redis does not answer a command within this long.',
    description:
      'Counted from when each command is sent, once connected. A Redis that stopped answering (a paused or hung server, or a network path that dropped the connection without closing it) is detected within this time instead of hanging. Raise it for a Redis that is slow but alive. Not used by qctl work and the live qctl top screen, which reconnect and carry on instead; qctl tail --follow reconnects too when a reply is that late (its blocking reads get 5s more).',
    default: DEFAULT_COMMAND_TIMEOUT_MS,
    defaultHelp: async () => `${DEFAULT_COMMAND_TIMEOUT_MS / 1000}s`,
    helpGroup: 'CONNECTION',
  })(),
}
