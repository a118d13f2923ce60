// A no-op handler for `qctl work` benchmarks: measures the worker's own overhead per message.
export default async function handle() {}
