import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const HOOK = join(dirname(fileURLToPath(import.meta.url)), 'peak-rss.cjs')

/**
 * Environment for a CLI process that records its peak RSS into `file` when it exits. Without
 * NODE_ENV, as users run it: vitest sets NODE_ENV=test, under which oclif loads tsx (+55 MB).
 */
export const peakRssEnv = (file: string): Record<string, string | undefined> => ({NODE_OPTIONS: `--require ${HOOK}`, CHAOS_PEAK_RSS_FILE: file, NODE_ENV: undefined})

/** The peak RSS a process recorded (see peak-rss.cjs), in MiB. */
export const peakRssMiB = (file: string): number => Number(readFileSync(file, 'utf8')) / 1024
