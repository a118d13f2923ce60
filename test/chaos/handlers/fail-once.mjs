// Chaos-suite handler: fails every message once, transiently (a TransientError on attempt 1, as in
// a short downstream outage), and succeeds on any later attempt, then appends {mid, id, pid,
// attempt, clock} to the ledger (CHAOS_LEDGER) with a synchronous write, as handlers/ledger.mjs
// does. `clock` is this process's Date.now(), so a test can see a skewed clock at work.
import {appendFileSync} from 'node:fs'

const ledger = process.env.CHAOS_LEDGER

export default async function handle(message) {
  if (message.attempt === 1) throw Object.assign(new Error(`first attempt of ${message.data?.mid} fails (clock ${Date.now()})`), {name: 'TransientError'})
  if (ledger) appendFileSync(ledger, `${JSON.stringify({mid: message.data?.mid, id: message.id, pid: process.pid, attempt: message.attempt, clock: Date.now()})}\n`)
}
