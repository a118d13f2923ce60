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
