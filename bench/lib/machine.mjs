// One line naming the machine a result came from.
import os from 'node:os'

import {redisServerVersion} from './redis-server.mjs'

export async function machineHeader() {
  const cpus = os.cpus()
  const model = cpus[0]?.model?.trim() ?? 'unknown CPU'
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1)
  const redis = (await redisServerVersion()).replace(/^Redis server /, '')
  const load = os.loadavg().map((value) => value.toFixed(2)).join(' ')
  return `${cpus.length} × ${model}, ${memGiB} GiB RAM, ${os.type()} ${os.release()} (${os.arch()}); redis-server ${redis}; node ${process.version}; load average at start ${load}; ${new Date().toISOString()}`
}

const cpuTimes = () =>
  os.cpus().reduce(
    (sum, cpu) => {
      const {user, nice, sys, idle, irq} = cpu.times
      return {busy: sum.busy + user + nice + sys + irq, total: sum.total + user + nice + sys + idle + irq}
    },
    {busy: 0, total: 0},
  )

/** Fraction of all CPUs busy (with anything) over the next `ms` milliseconds. */
export async function cpuBusyFraction(ms = 1000) {
  const before = cpuTimes()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const after = cpuTimes()
  return (after.busy - before.busy) / Math.max(1, after.total - before.total)
}

/** A warning when the machine is already busy before we start (benchmarks on a loaded machine are noise). */
export async function loadWarning() {
  const busy = await cpuBusyFraction()
  return busy > 0.2
    ? `warning: the CPUs were ${(busy * 100).toFixed(0)}% busy before the benchmark started; other work on this machine will skew the results`
    : undefined
}
