// A handler that dead-letters every message at once (a PermanentError, recognised by its name),
// for benchmarks and checks that need real dead-letter entries written by `qctl work`.
export default async function handle() {
  throw Object.assign(new Error('non-positive total'), {name: 'PermanentError'})
}
