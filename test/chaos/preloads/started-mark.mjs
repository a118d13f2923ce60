// Chaos-suite preload (NODE_OPTIONS='--import <this file>'): writes the file named by
// CHAOS_STARTED_MARK once the process has its first JavaScript listener for SIGTERM (bin/run.js's
// first lines), so a test can signal a worker "right after spawn": the earliest moment qctl can
// answer a signal, and no later. /proc/PID/status cannot tell this moment: node catches SIGTERM
// from its own start (to restore the terminal before dying of it), so SigCgt shows it caught
// before any qctl code runs.
import {writeFileSync} from 'node:fs'

const mark = process.env.CHAOS_STARTED_MARK
if (mark) {
  const onNewListener = (event) => {
    if (event !== 'SIGTERM') return
    process.off('newListener', onNewListener)
    // 'newListener' fires before the listener is added: write the mark once the current
    // synchronous step (which adds it) is over.
    queueMicrotask(() => writeFileSync(mark, String(process.pid)))
  }
  process.on('newListener', onNewListener)
}
