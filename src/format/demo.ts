/** What the demo suggests trying next: commands that work as printed, against a server that is still there. */
export interface DemoNext {
  topic: string
  /** A dead-letter entry to show, if the run left any. */
  deadLetterId: string | undefined
  /** ` -u URL` (password masked) when the demo did not use the default URL, so the commands reach the same Redis. */
  urlArgs: string
  /** The demo ran on a throwaway server, now stopped and deleted with its data. */
  throwaway: boolean
}

export function formatDemoNext(next: DemoNext): string[] {
  const own = `Try it on your own topic: qctl publish order.processed examples/orders.ndjson${next.urlArgs} && qctl work examples/handlers/order-processed.ts --until-empty${next.urlArgs}`
  if (next.throwaway) {
    return [
      'The throwaway redis-server has stopped and its data is gone: to look around afterwards, start redis-server (or give --redis-url) and run qctl demo again.',
      own,
    ]
  }
  const show = next.deadLetterId === undefined ? [] : [`qctl dlq show ${next.topic} ${next.deadLetterId}${next.urlArgs}`]
  const commands = [`qctl inspect ${next.topic}${next.urlArgs}`, ...show, `qctl dlq replay ${next.topic} --dry-run${next.urlArgs}`]
  return [`Next: ${commands.join(', ')}`, own]
}
