/** Sample `order.processed` events for `qctl demo`: NDJSON, deterministic, a few of them bad on purpose. */
export function sampleOrders(count: number): string {
  const lines: string[] = []
  for (let orderId = 1; orderId <= count; orderId++) {
    // Every 40th order has a zero total: the example handler rejects it as a permanent failure.
    const total = orderId % 40 === 0 ? 0 : Math.round(((orderId * 37) % 500) * 100 + 99) / 100
    lines.push(
      JSON.stringify({
        event: 'order.processed',
        orderId,
        customer: {id: `c-${100 + (orderId % 17)}`},
        total,
        currency: 'EUR',
        processedAt: new Date(Date.UTC(2026, 10, 28, 12, 0, orderId)).toISOString(),
      }),
    )
  }
  return `${lines.join('\n')}\n`
}
