import type {Message} from '../worker/message.js'

/**
 * A span around each handler call, begun by the worker's dispatcher just before the call and ended
 * when the call settles (its promise, or --handler-timeout). qctl's own implementation is
 * OpenTelemetry's (opentelemetry.ts); the worker knows only this shape, so it never loads
 * OpenTelemetry itself, and a worker without tracing pays one `undefined` check per message.
 */
export interface HandlerTracing {
  begin(message: Message, delivery: DeliveryFacts): HandlerSpan
  /** Export the spans still buffered (the worker is about to exit); optional. */
  flush?(): Promise<void>
}

/** Where a message was delivered: the worker's GroupOps of the lane has these. */
export interface DeliveryFacts {
  readonly group: string
  readonly consumer: string
  /** The stream the entry was read from: the topic, a partition's stream, or the group's replay stream. */
  readonly stream: string
}

export interface HandlerSpan {
  /** Runs the handler call inside the span's context, so spans the handler starts are its children. */
  run<T>(call: () => T): T
  /** The handler succeeded. */
  succeeded(): void
  /** The handler threw, rejected or timed out. */
  failed(error: unknown): void
}
