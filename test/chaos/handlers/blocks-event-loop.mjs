// Chaos-suite handler that blocks its event loop: like ledger.mjs it appends {mid, id, pid, attempt}
// to CHAOS_LEDGER after each call that succeeded, but a {"block": true} message, in the first worker
// that gets it (it claims the file CHAOS_RELEASE + '.claimed'; a worker that takes the entry over sees
// its attempt as 1 too, since qctl counts only starts it can prove), first spins in a synchronous loop,
// as CPU-bound code does: no timer, heartbeat or I/O of
// the worker runs meanwhile. It spins until the file named by CHAOS_RELEASE exists (at most 60 s), so
// the test decides when, after another worker has taken the entry over.
import {appendFileSync, existsSync, writeFileSync} from 'node:fs'

const ledger = process.env.CHAOS_LEDGER
const release = process.env.CHAOS_RELEASE

function spinUntilReleased() {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && !(release && existsSync(release))) {
    const until = Date.now() + 20
    while (Date.now() < until) {
      // busy
    }
  }
}

/** True for the first worker process to ask (the file is created exclusively). */
function firstToBlock() {
  try {
    writeFileSync(`${release}.claimed`, String(process.pid), {flag: 'wx'})
    return true
  } catch {
    return false
  }
}

export default async function handle(message) {
  if (message.data?.block === true && firstToBlock()) spinUntilReleased()
  if (ledger) appendFileSync(ledger, `${JSON.stringify({mid: message.data?.mid, id: message.id, pid: process.pid, attempt: message.attempt})}\n`)
}
