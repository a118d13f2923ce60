import {isAbsolute, join, relative} from 'node:path'

import {shellWord} from '../core/doctor/fix-commands.js'

/** What the demo suggests trying next: commands that work as printed, against a server that is still there. */
export interface DemoNext {
  topic: string
  /** A dead-letter entry to show, if the run left any. */
  deadLetterId: string | undefined
  /** ` -u URL` (password masked) when the demo did not use the default URL, so the commands reach the same Redis. */
  urlArgs: string
  /** The demo ran on a throwaway server, now stopped and deleted with its data. */
  throwaway: boolean
  /** qctl's examples directory as it can be typed from the current directory (see examplesPath). */
  examples: string
}

export function formatDemoNext(next: DemoNext): string[] {
  const file = (name: string): string => shellWord(join(next.examples, name))
  const own = `Try it on your own topic: qctl publish order.processed ${file('orders.ndjson')}${next.urlArgs} && qctl work ${file('handlers/order-processed.ts')} --until-empty${next.urlArgs}`
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

/**
 * The examples directory `dir` as typed from `cwd`: relative below it (`examples` in a clone), else
 * absolute, so the hints work for an installed qctl run from anywhere (its examples are in the package).
 */
export function examplesPath(dir: string, cwd: string): string {
  const below = relative(cwd, dir)
  return below !== '' && !below.startsWith('..') && !isAbsolute(below) ? below : dir
}
