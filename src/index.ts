/**
 * qctl as a library: typed errors, key names, the wire format and programmatic publishing.
 * Nothing here imports the CLI (oclif, chalk, ora, Ink).
 */
export {ExitCode, QctlError, isQctlError, type ErrorCode} from './core/errors.js'
export {deadLetterKey, hashTag, topicStreamKey} from './core/keys.js'
export {encodeEnvelope, encodeHeaders, RAW_ENCODING, WireField} from './core/wire-format.js'
export {publish, type PublishRequest, type PublishResult, type PublishHooks} from './core/publish/publish.js'
export {openRedis, resolveConnection, closeRedis, type ConnectionInput, type ResolvedConnection} from './core/redis/connection.js'
export {Worker, type Handler, type HandlerContext, type WorkerSummary, type WorkerEvents} from './core/worker/worker.js'
export {type WorkerOptions} from './core/worker/options.js'
export {PermanentError, TransientError, isPermanentError} from './core/worker/handler-errors.js'
export {type Message} from './core/worker/message.js'
export {type DlqEntry, decodeDlqEntry} from './core/dlq/entry.js'
export {listDlq, showDlqEntry, type DlqListResult} from './core/dlq/list.js'
export {lagRows, withGates, type LagRow, type Gates} from './core/lag/lag.js'
export {topicStats, findTopics, type TopicStats} from './core/stats/topic-stats.js'
export {inspectTopic, type InspectResult} from './core/stats/inspect.js'
export {openTelemetryTracing, loadOpenTelemetry, type OpenTelemetryApi, type OpenTelemetryLoad} from './core/trace/opentelemetry.js'
export {type HandlerTracing, type HandlerSpan, type DeliveryFacts} from './core/trace/handler-tracing.js'
export {parseTraceparent, TRACEPARENT_HEADER, TRACESTATE_HEADER, type TraceParent} from './core/trace/trace-context.js'
