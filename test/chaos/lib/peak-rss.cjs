// Preloaded into a qctl process (NODE_OPTIONS=--require …, see peak-rss.ts): when it exits, writes
// its peak resident set size in KiB (worker threads included) to the file named by
// CHAOS_PEAK_RSS_FILE. From VmHWM, the high-water mark of this process's own memory map: getrusage's
// maxrss also counts the parent's memory at fork (Linux folds it in at exec), so a test runner
// holding 100 MB would seem to make its child 100 MB bigger.
const {readFileSync, writeFileSync} = require('node:fs')
const {isMainThread} = require('node:worker_threads')

function peakKiB() {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    if (match) return Number(match[1])
  } catch {}
  return process.resourceUsage().maxRSS
}

const file = process.env.CHAOS_PEAK_RSS_FILE
if (file && isMainThread) process.on('exit', () => writeFileSync(file, String(peakKiB())))
