import type {Redis} from 'ioredis'

import {aclFileText, ACL_FILE, parseAclFile} from './acl-docs.js'
import {RedisServer} from './redis-server.js'

/**
 * A private Redis started with the documented role file (docs/acl/qctl-roles.acl), each of its users
 * given a password, for tests of what the least-privilege roles may do. `addUser` makes more users
 * (a role with rules added or taken away); `asUser` is the `-u` a CLI run as that user takes.
 */
export interface AclServer {
  server: RedisServer
  admin: Redis
  /** Each documented user's rules, as the role file has them. */
  rules: Map<string, string[]>
  passwordOf(user: string): string
  /** `['-u', 'redis://USER:PASSWORD@127.0.0.1:PORT']` */
  asUser(user: string): string[]
  addUser(user: string, rules: readonly string[]): Promise<void>
}

/** `salt` makes each file's passwords its own (they are never shared between test files). */
export async function startAclServer(salt: string): Promise<AclServer> {
  const server = await RedisServer.start({args: ['--aclfile', ACL_FILE]})
  const admin = await server.client()
  const passwordOf = (user: string): string => `${user}-${salt}`
  const addUser = async (user: string, rules: readonly string[]): Promise<void> => {
    await admin.call('ACL', 'SETUSER', user, ...rules, `>${passwordOf(user)}`)
  }
  const rules = parseAclFile(aclFileText())
  for (const user of rules.keys()) await addUser(user, [])
  return {
    server,
    admin,
    rules,
    passwordOf,
    asUser: (user) => ['-u', `redis://${user}:${encodeURIComponent(passwordOf(user))}@127.0.0.1:${server.port}`],
    addUser,
  }
}
