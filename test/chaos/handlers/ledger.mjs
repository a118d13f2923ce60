// Chaos-suite handler: after a message's work succeeds, appends one JSON line to the file named by
// CHAOS_LEDGER — {mid, id, pid, attempt} — with a synchronous write, so a SIGKILL right after cannot
// lose the record of a call that succeeded. What it does depends on the payload:
//   {"poison": true}     throws every time (transient: retried until --max-attempts, then dead-lettered)
//   {"sleepMs": N}       takes N ms first
// CHAOS_SLEEP_MS=N makes every call take N ms (a slow handler, so faults land mid-flight).
import {appendFileSync} from 'node:fs'

const ledger = process.env.CHAOS_LEDGER
const everySleepMs = Number(process.env.CHAOS_SLEEP_MS ?? 0)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export default async function handle(message) {
  const data = message.data ?? {}
  if (data.poison === true) throw Object.assign(new Error(`poison ${data.mid}`), {name: 'PoisonError'})
  if (everySleepMs > 0) await sleep(everySleepMs)
  if (typeof data.sleepMs === 'number') await sleep(data.sleepMs)
  if (ledger) appendFileSync(ledger, `${JSON.stringify({mid: data.mid, id: message.id, pid: process.pid, attempt: message.attempt})}\n`)
}
