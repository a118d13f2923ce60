import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {helpOf} from '../../src/cli/work-flags.js'
import {workerOptionsFrom} from '../../src/cli/work-options.js'
import Work from '../../src/commands/work.js'
import {loadHandler} from '../../src/core/worker/load-handler.js'
import {MODULE_EXPORTS, WORKER_OPTIONS, type OptionSpec} from '../../src/core/worker/option-schema.js'
import {resolveWorkerOptions, type ResolvedWorkerOptions} from '../../src/core/worker/options.js'

const handler = async (): Promise<void> => {}
let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-schema-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

const specs: OptionSpec[] = [...WORKER_OPTIONS]

describe('the worker-option schema drives', () => {
  it.each(specs.map((spec) => [spec.flag, spec] as const))('the flag --%s: kind, bounds, choices and help text', (flag, spec) => {
    const defined = Work.flags[flag as keyof typeof Work.flags] as {type: string; summary?: string; min?: number; options?: readonly string[]; char?: string}
    expect(defined).toBeDefined()
    expect(defined.type).toBe(spec.kind === 'boolean' ? 'boolean' : 'option')
    expect(defined.summary).toBe(helpOf(spec))
    expect(defined.char).toBe(spec.char)
    if (spec.kind === 'integer') expect(defined.min).toBe(spec.min)
    if (spec.kind === 'choice') expect(defined.options).toEqual(spec.choices)
  })

  it('the help shows each constant default once, durations as the flags take them', () => {
    expect(helpOf(WORKER_OPTIONS.find((spec) => spec.flag === 'visibility-timeout')!)).toBe(
      "Take over entries of a consumer silent this long. Default: the handler module's `visibilityTimeout` export, else 30s.",
    )
    expect(helpOf(WORKER_OPTIONS.find((spec) => spec.flag === 'prune-consumers-after')!)).toMatch(/Default: 1h\.$/)
  })

  it('the module exports loadHandler reads: each one the schema names, and no other', async () => {
    const valid: Record<string, unknown> = {topic: 't', group: 'g', concurrency: 3, maxAttempts: 2, backoff: 'fixed', backoffDelay: '2s', backoffMax: 60_000, visibilityTimeout: '45s', handlerTimeout: 500, ordered: true, onDeadLetter: 'hold-key'}
    expect(Object.keys(valid).sort()).toEqual(MODULE_EXPORTS.map((spec) => spec.moduleExport).sort())
    const file = join(dir, 'every-export.mjs')
    const lines = Object.entries(valid).map(([name, value]) => `export const ${name} = ${JSON.stringify(value)}`)
    await writeFile(file, `export default () => null\n${lines.join('\n')}\nexport const prefetch = 7\n`)
    const loaded = await loadHandler(file, dir)
    expect(loaded.defaults).toEqual({...valid, backoffDelay: 2000, visibilityTimeout: 45_000})
  })

  it("resolveWorkerOptions's defaults and bounds", () => {
    const resolved = resolveWorkerOptions({topic: 't', group: 'g', handler})
    const field: Partial<Record<string, (options: ResolvedWorkerOptions) => unknown>> = {
      concurrency: (o) => o.concurrency,
      prefetch: (o) => o.prefetch,
      maxAttempts: (o) => o.maxAttempts,
      backoff: (o) => o.backoff.kind,
      backoffDelay: (o) => o.backoff.delayMs,
      backoffMax: (o) => o.backoff.maxMs,
      visibilityTimeout: (o) => o.visibilityTimeoutMs,
      handlerTimeout: (o) => o.handlerTimeoutMs,
      shutdownTimeout: (o) => o.shutdownTimeoutMs,
      from: (o) => o.from,
      untilEmpty: (o) => o.untilEmpty,
      maxMessages: (o) => o.maxMessages,
      pruneConsumersAfter: (o) => o.pruneConsumersAfterMs,
    }
    for (const spec of specs) {
      const read = field[spec.name]
      if (read !== undefined) expect(read(resolved), spec.name).toBe(spec.default)
    }
    expect(() => resolveWorkerOptions({topic: 't', group: 'g', handler, concurrency: 0})).toThrow('--concurrency must be an integer of at least 1, not 0')
    expect(() => resolveWorkerOptions({topic: 't', group: 'g', handler, pruneConsumersAfterMs: 999})).toThrow('--prune-consumers-after must be an integer of at least 1000, not 999')
  })

  it('workerOptionsFrom: a flag wins over the module export, which wins over the default', () => {
    const loaded = {path: '/x/billing.mjs', handle: handler, exportName: 'default' as const, defaults: {topic: 'orders', concurrency: 4, maxAttempts: 9}}
    const options = workerOptionsFrom({concurrency: 2}, loaded)
    expect(options).toMatchObject({topic: 'orders', group: 'billing', concurrency: 2, maxAttempts: 9})
    expect(resolveWorkerOptions(options)).toMatchObject({concurrency: 2, maxAttempts: 9, prefetch: 500})
  })

  it('workerOptionsFrom: --on-dead-letter and --lease-timeout without --ordered are usage errors naming the flag, or the export that gave it', () => {
    const loaded = (defaults: Record<string, unknown> = {}) => ({path: '/x/billing.mjs', handle: handler, exportName: 'default' as const, defaults: {topic: 'orders', ...defaults}})
    const refusal = (run: () => unknown): {code: unknown; message: string} => {
      try {
        run()
      } catch (error) {
        return {code: (error as {code?: unknown}).code, message: (error as Error).message}
      }
      throw new Error('not refused')
    }
    expect(refusal(() => workerOptionsFrom({'on-dead-letter': 'hold-key'}, loaded()))).toEqual({code: 'USAGE', message: expect.stringMatching(/^--on-dead-letter needs --ordered: /)})
    expect(refusal(() => workerOptionsFrom({'lease-timeout': 5000}, loaded()))).toEqual({code: 'USAGE', message: expect.stringMatching(/^--lease-timeout needs --ordered: /)})
    expect(refusal(() => workerOptionsFrom({}, loaded({onDeadLetter: 'continue'})))).toEqual({
      code: 'USAGE',
      message: expect.stringMatching(/^the handler module's `onDeadLetter` export needs --ordered: /),
    })
    // With --ordered, from the flag or from the module, they are taken.
    expect(workerOptionsFrom({ordered: true, 'on-dead-letter': 'hold-key', 'lease-timeout': 5000}, loaded())).toMatchObject({onDeadLetter: 'hold-key', leaseTimeoutMs: 5000})
    expect(workerOptionsFrom({'lease-timeout': 5000}, loaded({ordered: true, onDeadLetter: 'hold-key'}))).toMatchObject({ordered: true, onDeadLetter: 'hold-key', leaseTimeoutMs: 5000})
  })
})
