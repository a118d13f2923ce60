// The retry storm's handler (scenario retry-storm): every message fails its first delivery with a
// transient error and succeeds on the second. One module for both contenders, so both throw the
// same error the same way: the default export is qctl's handler (`message.attempt` is 1 on the
// first delivery), `bullmq` is BullMQ's processor (`job.attemptsMade` is 0 on the first attempt).
// The error is recognised by its name (qctl's TransientError), so no import of qctl is needed.
const transient = () => Object.assign(new Error('first attempt fails'), {name: 'TransientError'})

export default async function handle(message) {
  if (message.attempt === 1) throw transient()
}

export async function bullmq(job) {
  if (job.attemptsMade === 0) throw transient()
}
