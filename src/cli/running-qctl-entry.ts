import {fileURLToPath} from 'node:url'

import type {QctlEntry} from '../core/worker/running-qctl.js'

/** This qctl package's entry points (dist/index.js, dist/index.cjs) and exports, for handlers that import `qctl`. */
export async function runningQctlEntry(): Promise<QctlEntry> {
  const esm = new URL('../index.js', import.meta.url)
  return {
    esmUrl: esm.href,
    cjsPath: fileURLToPath(new URL('../index.cjs', import.meta.url)),
    exports: (await import('../index.js')) as Record<string, unknown>,
  }
}
