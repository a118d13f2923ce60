// Chaos-suite handler: ends its own process on the message whose payload has {"crash": true}, the way
// a crash-looping handler does: CRASH_MODE=exit1 (process.exit(1)), exit0 (process.exit(0)) or oom
// (runs out of heap; start the worker with a small --max-old-space-size). Every other message takes
// a few milliseconds (so neighbours are running when it crashes) and is recorded in the ledger
// (CHAOS_LEDGER) with a synchronous write, as handlers/ledger.mjs does.
import {appendFileSync} from 'node:fs'

const ledger = process.env.CHAOS_LEDGER
const mode = process.env.CRASH_MODE ?? 'exit1'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export default async function handle(message) {
  const data = message.data ?? {}
  if (data.crash === true) {
    if (mode === 'exit0') process.exit(0)
    if (mode === 'oom') {
      const hoard = []
      for (;;) hoard.push(new Array(1_000_000).fill(hoard.length))
    }
    process.exit(1)
  }
  await sleep(2)
  if (ledger) appendFileSync(ledger, `${JSON.stringify({mid: data.mid, id: message.id, pid: process.pid, attempt: message.attempt})}\n`)
}
