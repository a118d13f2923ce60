// Chaos-suite preload (NODE_OPTIONS='--import <this file>'): writes the file named by
// CHAOS_STARTED_MARK as the first JavaScript the process runs, before qctl's own code, so a test
// can signal a worker "right after spawn": the moment node has started, and no later.
import {writeFileSync} from 'node:fs'

if (process.env.CHAOS_STARTED_MARK) writeFileSync(process.env.CHAOS_STARTED_MARK, String(process.pid))
