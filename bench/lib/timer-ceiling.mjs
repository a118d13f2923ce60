import {setTimeout as sleep} from 'node:timers/promises'

/**
 * What `lanes` lanes awaiting a `ms` timer over and over reach with nothing else to do (no Redis, no
 * messages), measured here in the runner: the real ceiling of a sleeping-handler case (a 1 ms timer
 * fires after a little more than 1 ms). Messages (timer firings) per second.
 */
export async function timerCeiling(lanes, ms, durationMs) {
  let completed = 0
  let stop = false
  const lane = async () => {
    while (!stop) {
      await sleep(ms)
      completed++
    }
  }
  const started = performance.now()
  const running = Array.from({length: lanes}, lane)
  await sleep(durationMs)
  stop = true
  await Promise.all(running)
  return completed / ((performance.now() - started) / 1000)
}
