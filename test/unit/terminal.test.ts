import {describe, expect, it} from 'vitest'

import {decorationsFor} from '../../src/output/terminal.js'

describe('decorationsFor', () => {
  const tty = {isTTY: true, columns: 80}

  it.each([
    ['a terminal', tty, false, {}, {colour: true, spinner: true}],
    ['a pipe', {isTTY: false}, false, {}, {colour: false, spinner: false}],
    ['--json on a terminal', tty, true, {}, {colour: false, spinner: false}],
    ['NO_COLOR on a terminal', tty, false, {NO_COLOR: '1'}, {colour: false, spinner: false}],
    ['an empty NO_COLOR (unset by convention)', tty, false, {NO_COLOR: ''}, {colour: true, spinner: true}],
    ['TERM=dumb', tty, false, {TERM: 'dumb'}, {colour: false, spinner: false}],
    ['a terminal without a width', {isTTY: true, columns: 0}, false, {}, {colour: true, spinner: false}],
  ])('%s', (_name, stream, json, env, expected) => {
    expect(decorationsFor(stream, json, env)).toEqual(expected)
  })
})
