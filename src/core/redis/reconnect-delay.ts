/**
 * How long to wait before reconnection attempt `attempt` (1, 2, …) once an established connection
 * was lost: 200 ms more each time, at most 5 s. The one policy of everything that rides out an
 * outage (`qctl work`, the live `qctl top`, `qctl tail --follow`), so they all come back alike.
 */
export const reconnectDelayMs = (attempt: number): number => Math.min(Math.max(1, attempt) * 200, 5000)
