import {XADD_ENTRIES, type ScriptSpec} from '../scripts.js'
import type {FieldValue} from '../wire-format.js'
import {BatchPublisher} from './batch-publisher.js'

/**
 * A BatchPublisher for `qctl publish --envelope`: each entry is `[id, ...fields]`, its ID `*` or
 * the one it keeps (`--keep-ids`), and entries of one batch differ in width (another program's
 * entry may have thousands of fields), so a batch goes through xadd-entries-1.lua, which reads
 * each entry's ID and width, or through pipelined `XADD stream id …` when scripts are refused.
 */
export class EnvelopePublisher extends BatchPublisher {
  protected override entryBytes(entry: readonly FieldValue[]): number {
    let bytes = 0
    for (let i = 1; i < entry.length; i++) bytes += (entry[i] as FieldValue).length
    return bytes
  }

  protected override scriptCall(stream: string, entries: readonly FieldValue[][]): [ScriptSpec, FieldValue[]] {
    const args: FieldValue[] = [stream]
    for (const entry of entries) {
      args.push(entry[0] as FieldValue, String(entry.length - 1))
      // One value at a time: a spread of a very wide entry would overflow the call stack.
      for (let i = 1; i < entry.length; i++) args.push(entry[i] as FieldValue)
    }
    return [XADD_ENTRIES, args]
  }

  protected override xaddArguments(entry: readonly FieldValue[]): FieldValue[] {
    return [...entry]
  }
}
