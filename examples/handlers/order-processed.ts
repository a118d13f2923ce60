/**
 * An example qctl handler: run it with `qctl work examples/handlers/order-processed.ts`.
 *
 * Delivery is at least once, so the handler must be idempotent: message.id is the same on every
 * redelivery, use it (or a business key) to skip work already done.
 */
import {PermanentError, TransientError, type HandlerContext, type Message} from 'qctl'

// Defaults for `qctl work`; flags override them.
export const topic = 'order.processed'
export const group = 'billing'
export const concurrency = 8

interface OrderProcessed {
  orderId: number
  customer: {id: string}
  total: number
  currency: string
}

export default async function handle(message: Message<OrderProcessed>, ctx: HandlerContext): Promise<void> {
  const order = message.data

  // Bad data will never get better: dead-letter it now instead of retrying.
  if (!(order.total > 0)) throw new PermanentError(`order ${order.orderId} has a non-positive total ${order.total}`)

  // A dependency that is briefly down: throw, and qctl retries with backoff (here: every 7th order
  // fails on its first two deliveries, to show retries in the demo).
  if (order.orderId % 7 === 0 && ctx.attempt <= 2) throw new TransientError('payment service timed out')

  // Real work goes here: charge, write, call an API. Pass ctx.signal to anything that can be cancelled.
  await new Promise((resolve) => setTimeout(resolve, 2))
}
