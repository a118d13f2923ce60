/** Delete every key under `pattern` (SCAN, so it never blocks the server for long). */
export async function deleteMatching(admin, pattern) {
  let cursor = '0'
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await admin.unlink(...keys)
  } while (cursor !== '0')
}
