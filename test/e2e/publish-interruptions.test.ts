import {describe, expect, it} from 'vitest'

import {jsonOf, startCli, waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

const lines = (from: number, count: number): string =>
  Array.from({length: count}, (_, i) => `${JSON.stringify({seq: from + i})}\n`).join('')

describe('qctl publish: interruptions', () => {
  const ctx = usePrivateRedis()

  it('publishes stdin lines as they arrive, without waiting for a full batch', async () => {
    const cli = startCli(['publish', 'live', '--ndjson', '-u', ctx.server.url])
    cli.child.stdin.write(lines(1, 3))
    await waitFor(async () => (await ctx.redis.xlen('live')) === 3, 10_000, 'three messages published while stdin stays open')
    cli.child.stdin.end(lines(4, 2))
    const result = await cli.done
    expect(result.code).toBe(0)
    expect(await ctx.redis.xlen('live')).toBe(5)
  })

  it('stops on SIGINT while waiting for stdin: exit 130, exact count, and how to resume', async () => {
    const cli = startCli(['publish', 'interrupted', '--ndjson', '-u', ctx.server.url, '--json'])
    cli.child.stdin.write(lines(1, 500))
    await waitFor(async () => (await ctx.redis.xlen('interrupted')) === 500, 10_000, '500 messages published')
    cli.child.kill('SIGINT')
    const result = await cli.done
    expect(result.code).toBe(130)
    expect(jsonOf(result)).toEqual({
      error: {
        code: 'INTERRUPTED',
        exitCode: 130,
        message: 'interrupted: published 500 messages (through input line 500); rerun with --skip-lines 500 to continue',
        details: {published: 500, firstId: expect.stringMatching(/^\d+-\d+$/) as string, lastId: expect.stringMatching(/^\d+-\d+$/) as string, lastLine: 500, resume: '--skip-lines 500'},
      },
    })
    expect(await ctx.redis.xlen('interrupted')).toBe(500)
  })

  it('reports a Redis crash mid-run with exit 3, the count stored and the line to resume from', async () => {
    const cli = startCli(['publish', 'crashed', '--ndjson', '-u', ctx.server.url])
    cli.child.stdin.write(lines(1, 1000))
    await waitFor(async () => (await ctx.redis.xlen('crashed')) === 1000, 10_000, '1000 messages published')
    // Stored is not yet answered: the server writes replies after running the commands, and may write
    // ours (XLEN) before qctl's, so a kill right now could leave qctl without its acknowledgement (it
    // then says so, truthfully, but this test is about a crash after one). A later round trip shows
    // qctl's connection with nothing left to write: its reply is in its socket.
    await waitFor(async () => /name=qctl:publish .*\bomem=0\b/.test(String(await ctx.redis.call('CLIENT', 'LIST'))), 10_000, "qctl's acknowledgement written")
    ctx.redis.disconnect()
    await ctx.server.kill('SIGKILL')
    cli.child.stdin.end(lines(1001, 10))
    const result = await cli.done
    await ctx.server.restart()
    ctx.redis = await ctx.server.client()
    expect(result.code).toBe(3)
    // The last 10 lines reach ioredis before or after it sees the socket close (a race between two
    // events in one poll): refused unsent, so nothing is in doubt; or written to the dead socket, so
    // they are in doubt (qctl cannot know Redis died first), all or some of them. The socket's end
    // reads as closed, or as reset when a write meets the dead peer first. One line either way.
    const port = ctx.server.port
    const cause = '(connection closed by the server|connection reset by peer)'
    const stored = `Error: lost connection to 127\\.0\\.0\\.1:${port}: ${cause}; published 1000 messages \\(through input line 1000\\); `
    const resume = 'rerun with --skip-lines 1000 to continue'
    const inDoubt = `(\\d+) more were sent without a reply: they may or may not be stored; ${resume} \\(the \\3 messages in doubt go again: they may then be stored twice, never lost\\)`
    const match = new RegExp(`^${stored}(${resume}|${inDoubt})\\n$`).exec(result.stderr)
    expect(match, result.stderr).not.toBeNull()
    if (match?.[3] !== undefined) expect(Number(match[3])).toBeLessThanOrEqual(10)
  })
})
