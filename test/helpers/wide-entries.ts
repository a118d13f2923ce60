/**
 * Entries as other programs may write them (redis-cli XADD): any number of fields, binary and
 * empty values, for the tests of the scripts that copy whole entries (test/lua/).
 */

/** `values` field and value buffers (an even number), `data` first; every third value binary, some empty. */
export function wideFields(values: number, data = '{"n":1}'): Buffer[] {
  if (values % 2 !== 0 || values < 2) throw new Error(`an entry has field/value pairs: ${values} values`)
  const fields: Buffer[] = [Buffer.from('data'), Buffer.from(data)]
  for (let i = 1; i < values / 2; i++) {
    fields.push(Buffer.from(`field-${i}`))
    if (i % 3 === 0) fields.push(Buffer.from([0xff, 0x00, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0xc3, 0x28, 0x0d, 0x0a]))
    else if (i % 7 === 0) fields.push(Buffer.alloc(0))
    else fields.push(Buffer.from(`value ${i} caf\u00e9`))
  }
  return fields
}

/** Whether two lists of buffers are the same bytes in the same order (one message, not 100,000). */
export function sameBytes(actual: readonly Buffer[], expected: readonly Buffer[]): string | true {
  if (actual.length !== expected.length) return `${actual.length} values, expected ${expected.length}`
  const index = actual.findIndex((value, i) => !value.equals(expected[i] as Buffer))
  return index === -1 ? true : `value ${index} differs: ${actual[index]?.toString('hex')} instead of ${expected[index]?.toString('hex')}`
}
