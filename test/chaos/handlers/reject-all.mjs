// Chaos-suite handler: rejects every message with a PermanentError (dead-lettered at once), to fill
// a dead-letter stream through the worker's own path.
export default async function handle(message) {
  throw Object.assign(new Error(`rejected ${message.id}`), {name: 'PermanentError'})
}
