import {readJsonLines} from '../../helpers/json-lines.js'

/** One call recorded by handlers/record-sha.mjs. */
export interface ShaCall {
  id: string
  /** SHA-256 of message.bytes; null when the entry had no `data` field. */
  sha256: string | null
  isBuffer: boolean
  dataType: string
  /** No payload polluted Object.prototype in the worker process. */
  clean: boolean
  attempt: number
}

/** The calls record-sha.mjs wrote to its ledger (none if it never ran). */
export const readLedgerOf = (file: string): ShaCall[] => readJsonLines<ShaCall>(file)
