// Where the machine's CPU time went during one run: the contender, redis-server, this runner,
// and everything else ("others"). A large "others" share means the run was disturbed by other
// work on the machine and its number should be taken with salt.
import os from 'node:os'

/** Busy CPU time of the whole machine so far, in ms (10 ms resolution on Linux). */
export function machineBusyMs() {
  let busy = 0
  for (const {times} of os.cpus()) busy += times.user + times.nice + times.sys + times.irq
  return busy
}

/** used_cpu_user + used_cpu_sys of the redis-server, in ms. */
export async function redisCpuMs(admin) {
  const info = await admin.info('cpu')
  const field = (name) => Number(info.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))?.[1] ?? 0)
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000
}

/** Start measuring; call the returned function with the child's CPU ms when the run is over. */
export async function startCpuMeter(admin) {
  const machine = machineBusyMs()
  const redis = await redisCpuMs(admin)
  const self = process.cpuUsage()
  return async (childCpuMs) => {
    const selfUsage = process.cpuUsage(self)
    const result = {
      machineMs: machineBusyMs() - machine,
      redisMs: (await redisCpuMs(admin)) - redis,
      runnerMs: (selfUsage.user + selfUsage.system) / 1000,
      childMs: childCpuMs,
    }
    result.othersMs = childCpuMs === undefined ? undefined : Math.max(0, result.machineMs - result.childMs - result.redisMs - result.runnerMs)
    return result
  }
}
