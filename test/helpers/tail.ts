import type {Redis} from 'ioredis'

import {waitFor} from './cli.js'

/** The clients named `name` on `node` (CLIENT LIST), as field maps; the connection to `node` is closed after. */
export async function clientsNamedOn(node: Redis, name: string): Promise<Array<Record<string, string>>> {
  try {
    const list = String(await node.client('LIST'))
    return list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => Object.fromEntries(line.trim().split(' ').map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)])))
  } finally {
    node.disconnect()
  }
}

/** Resolves once `qctl tail --follow` has its blocking connection (`qctl:tail:follow`) where `clientsNamed` looks for `stream`. */
export const followerUpOn = async (clientsNamed: (key: string, name: string) => Promise<unknown[]>, stream: string): Promise<void> =>
  waitFor(async () => (await clientsNamed(stream, 'qctl:tail:follow')).length > 0, 15_000, 'the follow connection')
