// Preloaded into benchmarked Node children (`node --import <this> ...`): at exit, writes the
// process's peak RSS (KiB) and CPU time (µs), from getrusage, as JSON to the file named by
// QCTL_BENCH_RSS_FILE. Cost: one tiny module load and one synchronous write at exit, the same
// for every contender.
import {writeFileSync} from 'node:fs'

const file = process.env.QCTL_BENCH_RSS_FILE
if (file) {
  process.on('exit', () => {
    try {
      const usage = process.resourceUsage()
      writeFileSync(file, JSON.stringify({maxRssKiB: usage.maxRSS, userUs: usage.userCPUTime, systemUs: usage.systemCPUTime}))
    } catch {
      // Measurement only: never change the child's outcome.
    }
  })
}
