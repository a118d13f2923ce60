import type {Interfaces} from '@oclif/core'

import {Args, Flags} from '../../cli/oclif.js'

import {ProfileCommand} from '../../cli/profile-command.js'
import {createProfile, type CreateProfileResult} from '../../core/profiles/manage.js'
import {clearPasswordWarning, formatCreated} from '../../format/profile.js'
import {registerSecret} from '../../output/redact.js'

export default class ProfileCreate extends ProfileCommand<typeof ProfileCreate> {
  static override summary = 'Save a named connection (URL, cluster, password file, TLS files) to use with --profile.'
  static override description = `Written to $XDG_CONFIG_HOME/qctl/profiles.json (else ~/.config/qctl/profiles.json), mode 0600 in a 0700 directory, replaced atomically. Nothing connects: the settings are checked as a command would use them (URLs, TLS flags only with rediss://, files readable). File paths are stored absolute. A password is never copied from --password-file or $QCTL_REDIS_PASSWORD: the profile keeps the file's path. A password given with --password or in the URL is stored in clear, with a warning. Exits 9 if the profile exists (--force replaces it), 6 if a file named does not exist.`
  static override examples = [
    '<%= config.bin %> profile create staging -u redis://staging-redis:6379 --use',
    '<%= config.bin %> profile create prod -u rediss://app@prod-redis:6380 --cluster --password-file ~/.secrets/prod-redis --tls-ca ~/certs/prod-ca.pem',
  ]

  static override args = {name: Args.string({description: 'Profile name: letters, digits, ".", "_", "-".', required: true, ignoreStdin: true})}
  static override flags = {
    'redis-url': Flags.string({
      char: 'u',
      summary: 'Redis URL: redis://[user[:password]@]host:port[/db], or rediss:// for TLS; repeat for a cluster\'s seeds.',
      required: true,
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<url>',
    }),
    cluster: Flags.boolean({summary: 'The URL names a Redis Cluster node (--no-cluster: a single server; neither: ask the server).', allowNo: true}),
    'cluster-nat': Flags.string({summary: 'Reach the node the cluster announces as FROM at TO instead; repeatable.', helpValue: '<from=to>', multiple: true, multipleNonGreedy: true}),
    'password-file': Flags.string({summary: 'File holding the password: the profile keeps its path, never the password.', helpValue: '<file>'}),
    password: Flags.string({summary: 'The password itself, stored in clear in the profiles file (warned about; prefer --password-file).', helpValue: '<password>'}),
    'tls-ca': Flags.string({summary: 'CA certificate (PEM) to verify the server with.', helpValue: '<file>'}),
    'tls-cert': Flags.string({summary: 'Client certificate (PEM) for mutual TLS.', helpValue: '<file>'}),
    'tls-key': Flags.string({summary: 'Private key (PEM) of the client certificate.', helpValue: '<file>'}),
    'tls-insecure': Flags.boolean({summary: 'Do not verify the server certificate (each command using the profile warns).'}),
    use: Flags.boolean({summary: 'Also make it the current profile (as qctl profile use).'}),
    force: Flags.boolean({summary: 'Replace a profile of that name.'}),
  }

  async run(): Promise<CreateProfileResult> {
    const {args} = this
    // Its flags share names with the connection flags it does not take: typed from its own definitions alone.
    const flags = this.flags as unknown as Interfaces.InferredFlags<typeof ProfileCreate.flags>
    registerSecret(flags.password)
    const result = await createProfile(
      this.store,
      {
        name: args.name,
        redisUrl: flags['redis-url'],
        cluster: flags.cluster,
        clusterNat: flags['cluster-nat'],
        passwordFile: flags['password-file'],
        password: flags.password,
        tlsCa: flags['tls-ca'],
        tlsCert: flags['tls-cert'],
        tlsKey: flags['tls-key'],
        tlsInsecure: flags['tls-insecure'],
        force: flags.force,
        use: flags.use,
        cwd: process.cwd(),
      },
      process.env,
    )
    if (result.passwordInClear) this.warnLine(clearPasswordWarning(result))
    if (process.env.QCTL_REDIS_PASSWORD !== undefined && process.env.QCTL_REDIS_PASSWORD !== '' && result.profile.passwordSource === 'none') {
      this.warnLine('$QCTL_REDIS_PASSWORD is not stored in profiles: give --password-file FILE to keep where the password is')
    }
    if (!this.jsonEnabled()) for (const line of formatCreated(result)) this.log(line)
    return result
  }
}
