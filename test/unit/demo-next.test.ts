import {describe, expect, it} from 'vitest'

import {examplesPath, formatDemoNext} from '../../src/format/demo.js'

describe("qctl demo's hints name example files that exist from where it ran", () => {
  it('relative inside the package (a clone), absolute from anywhere else (an installed qctl)', () => {
    expect(examplesPath('/work/qctl/examples', '/work/qctl')).toBe('examples')
    expect(examplesPath('/usr/lib/node_modules/qctl/examples', '/home/me/billing')).toBe('/usr/lib/node_modules/qctl/examples')
    expect(examplesPath('/work/qctl/examples', '/work/qctl/src')).toBe('/work/qctl/examples')
    expect(examplesPath('/work/qctl/examples', '/work/qctl/examples')).toBe('/work/qctl/examples')
  })

  it('quotes a path a shell would split', () => {
    const [, own] = formatDemoNext({topic: 't', deadLetterId: undefined, urlArgs: '', throwaway: false, examples: '/home/me/my tools/qctl/examples'})
    expect(own).toBe("Try it on your own topic: qctl publish order.processed '/home/me/my tools/qctl/examples/orders.ndjson' && qctl work '/home/me/my tools/qctl/examples/handlers/order-processed.ts' --until-empty")
  })
})
