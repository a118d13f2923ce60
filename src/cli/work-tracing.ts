import {loadOpenTelemetry, openTelemetryTracing} from '../core/trace/opentelemetry.js'
import type {HandlerTracing} from '../core/trace/handler-tracing.js'

/**
 * `qctl work`'s tracing (README, "Traces"): OpenTelemetry spans when the handler's project has
 * `@opentelemetry/api` (resolved from the handler's file, once per worker), none otherwise; and a
 * warning when the package is there but cannot be used, so that missing spans are not a mystery.
 */
export function handlerTracing(handlerPath: string, version: string): {tracing?: HandlerTracing; warning?: string} {
  const found = loadOpenTelemetry(handlerPath)
  if (found.kind === 'loaded') return {tracing: openTelemetryTracing(found.api, {version})}
  if (found.kind === 'unusable') return {warning: `@opentelemetry/api at ${found.path} cannot be used (${found.problem}): handlers run without spans`}
  return {}
}

/** How long an exiting worker waits for its spans to be exported. */
export const TRACE_FLUSH_MS = 5000

/** Flush the spans still buffered before the worker exits, within TRACE_FLUSH_MS; a warning if that failed or took too long. */
export async function flushTraces(tracing: HandlerTracing | undefined): Promise<string | undefined> {
  if (tracing?.flush === undefined) return undefined
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), TRACE_FLUSH_MS)))
  try {
    const outcome = await Promise.race([tracing.flush().then(() => 'done' as const), late])
    return outcome === 'late' ? `spans were still being exported after ${TRACE_FLUSH_MS / 1000}s: the last ones may be lost` : undefined
  } catch (error) {
    return `could not export the last spans: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    clearTimeout(timer)
  }
}
