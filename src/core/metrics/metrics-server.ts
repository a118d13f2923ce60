import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {usageError} from '../errors.js'
import {EXPOSITION_CONTENT_TYPE} from './exposition.js'

/** The one path served; anything else is 404. */
export const METRICS_PATH = '/metrics'

export interface MetricsServerOptions {
  host: string
  /** 0: any free port (the server's `url` says which). */
  port: number
  /** The page of one scrape. A throw answers 500 with its message as a one-line body. */
  collect: () => string | Promise<string>
  /** The flags that set host and port, named in a refusal (`--metrics-port`, `--port`). */
  flags: {host: string; port: string}
}

export interface MetricsServer {
  /** Where it listens: `http://HOST:PORT/metrics`. */
  readonly url: string
  readonly port: number
  /** Stop listening and drop kept-alive connections (a scraper's): nothing holds the process. Idempotent. */
  close(): Promise<void>
}

const oneLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim()

/** Why listening failed, as a usage error naming the flag to change (exit 2): nothing was read yet. */
function listenError(error: NodeJS.ErrnoException, options: MetricsServerOptions): Error {
  const where = `${options.host}:${options.port}`
  switch (error.code) {
    case 'EADDRINUSE':
      return usageError(`cannot serve metrics on ${where}: the port is in use (choose another with ${options.flags.port})`)
    case 'EACCES':
      return usageError(`cannot serve metrics on ${where}: permission denied (ports below 1024 need privileges; choose another with ${options.flags.port})`)
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return usageError(`cannot serve metrics on ${where}: no such address on this host (${options.flags.host})`)
    default:
      return usageError(`cannot serve metrics on ${where}: ${oneLine(error)}`)
  }
}

async function answer(request: IncomingMessage, response: ServerResponse, collect: MetricsServerOptions['collect']): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]
  if (path !== METRICS_PATH) {
    response.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8'}).end(`not found: metrics are at ${METRICS_PATH}\n`)
    return
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, {'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD'}).end('method not allowed: GET or HEAD\n')
    return
  }
  let page: string
  try {
    page = await collect()
  } catch (error) {
    response.writeHead(500, {'Content-Type': 'text/plain; charset=utf-8'}).end(`error: ${oneLine(error)}\n`)
    return
  }
  response.writeHead(200, {'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(page)})
  response.end(request.method === 'HEAD' ? undefined : page)
}

/**
 * A Prometheus scrape endpoint on node:http: GET (or HEAD) /metrics answers the text format from
 * `collect`, read at scrape time (no background loop); any other path 404. Resolves once listening;
 * a port in use (or an address this host does not have) rejects with a usage error naming the flag.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    answer(request, response, options.collect).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, {'Content-Type': 'text/plain; charset=utf-8'})
      response.end(`error: ${oneLine(error)}\n`)
    })
  })
  // A scraper keeps its connection open between scrapes; a slow or stuck one is not waited for.
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, options)))
    server.listen({host: options.host, port: options.port}, () => resolve())
  })
  // Listening: a later server error (an accept failing for want of file descriptors) must not end
  // the worker it reports on; the scrape that met it fails, and Prometheus's `up` says so.
  server.on('error', () => undefined)
  const port = (server.address() as AddressInfo).port
  // An IPv6 address goes in brackets in a URL.
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  let closed: Promise<void> | undefined
  return {
    url: `http://${host}:${port}${METRICS_PATH}`,
    port,
    close: async () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}
