// A handler that awaits 1 ms (a stand-in for a call to another service): with it, throughput comes
// from how many handlers are in flight at once, not from the worker's own speed. Shared by all three
// contenders of the work scenario's "1 ms handler" case (qctl, bare-consume-handler.mjs,
// bullmq-worker-handler.mjs).
import {setTimeout as sleep} from 'node:timers/promises'

export default async function handle() {
  await sleep(1)
}
