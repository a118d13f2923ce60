import {afterEach} from 'vitest'

import type {RunningCli} from '../../helpers/cli.js'
import {usePrivateRedis, type PrivateRedis} from '../../helpers/private-redis.js'
import type {WorkerFleet} from './fleet.js'

/**
 * What the scenarios that freeze Redis share: a private Redis, the fleets and CLIs they start (killed
 * after each test), and SIGSTOP/SIGCONT of Redis, thawed after a test that failed while it was frozen.
 */
export interface FreezableRedis {
  redis: PrivateRedis
  fleets: WorkerFleet[]
  clis: RunningCli[]
  freezeRedis: () => Promise<void>
  thawRedis: () => Promise<void>
}

export function useFreezableRedis(): FreezableRedis {
  const redis = usePrivateRedis()
  const fleets: WorkerFleet[] = []
  const clis: RunningCli[] = []
  let frozen = false
  const freezeRedis = async (): Promise<void> => {
    frozen = true
    await redis.server.kill('SIGSTOP')
  }
  const thawRedis = async (): Promise<void> => {
    frozen = false
    await redis.server.kill('SIGCONT')
  }
  afterEach(async () => {
    if (frozen) await thawRedis()
    for (const cli of clis.splice(0)) cli.child.kill('SIGKILL')
    await Promise.all(fleets.splice(0).map(async (fleet) => fleet.killAll()))
  })
  return {redis, fleets, clis, freezeRedis, thawRedis}
}
