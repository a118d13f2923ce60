// Chaos-suite handler for hostile payloads: appends one JSON line per call to the file named by
// CHAOS_LEDGER — {id, sha256, dataType, clean, attempt} — where sha256 is of message.bytes (the
// payload exactly as stored) and clean says that no payload polluted Object.prototype in this
// process. CHAOS_REJECT=1 then throws a PermanentError, so every message is dead-lettered.
// It never serialises message.data: a 100,000-deep array would overflow JSON.stringify's stack,
// which is the handler's business, not qctl's.
import {createHash} from 'node:crypto'
import {appendFileSync} from 'node:fs'

const ledger = process.env.CHAOS_LEDGER
const reject = process.env.CHAOS_REJECT === '1'

const typeOf = (value) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value)

export default async function handle(message) {
  const probe = {}
  const clean = probe.polluted === undefined && Object.prototype.polluted === undefined && Object.getPrototypeOf(probe) === Object.prototype
  const sha256 = message.bytes === undefined ? null : createHash('sha256').update(message.bytes).digest('hex')
  const line = {id: message.id, sha256, isBuffer: Buffer.isBuffer(message.bytes), dataType: typeOf(message.data), clean, attempt: message.attempt}
  if (ledger) appendFileSync(ledger, `${JSON.stringify(line)}\n`)
  if (reject) throw Object.assign(new Error(`rejected ${message.id}`), {name: 'PermanentError'})
}
