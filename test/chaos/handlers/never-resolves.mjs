// Chaos-suite handler that hangs: records each call ({mid, id, pid, attempt}) in the file named by
// CHAOS_LEDGER, then returns a promise that never settles (a lost callback, a request without a
// timeout). Only --handler-timeout gets the worker past it.
import {appendFileSync} from 'node:fs'

const ledger = process.env.CHAOS_LEDGER

export default function handle(message) {
  if (ledger) appendFileSync(ledger, `${JSON.stringify({mid: message.data?.mid, id: message.id, pid: process.pid, attempt: message.attempt})}\n`)
  return new Promise(() => {})
}
