// Chaos-suite handler in TypeScript that takes a while to load (a large dependency tree, a warm-up
// at import): it writes the file named by CHAOS_LOADING_MARK as it starts loading, then waits
// CHAOS_LOAD_MS (default 3 s) at the top level before exporting the ledger handler's behaviour.
import {appendFileSync, writeFileSync} from 'node:fs'

const mark = process.env['CHAOS_LOADING_MARK']
if (mark !== undefined) writeFileSync(mark, String(process.pid))
await new Promise((resolve) => setTimeout(resolve, Number(process.env['CHAOS_LOAD_MS'] ?? 3000)))

const ledger = process.env['CHAOS_LEDGER']

export default async function handle(message: {id: string; attempt: number; data: {mid?: string} | undefined}): Promise<void> {
  if (ledger !== undefined) appendFileSync(ledger, `${JSON.stringify({mid: message.data?.mid, id: message.id, pid: process.pid, attempt: message.attempt})}\n`)
}
