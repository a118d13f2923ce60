import {connect} from 'node:net'

/**
 * Whether a plain-text Redis answers at host:port: a PING without TLS that gets a RESP reply
 * (`+PONG`, or an error such as `-NOAUTH`). Used when a rediss:// connection got no TLS handshake:
 * a plain-text Redis reads the TLS ClientHello as an unfinished inline command and never answers,
 * so the connection only times out. Resolves false on anything else or after `timeoutMs`.
 */
export async function answersPlainText(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host, port})
    const done = (answer: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (chunk: Buffer) => done(/^[+-]/.test(chunk.toString('latin1', 0, 1))))
    socket.once('error', () => done(false))
    socket.once('close', () => done(false))
  })
}
