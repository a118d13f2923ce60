#!/usr/bin/env node
// Redact passwords from all output before anything (oclif's own debug log included) can print them.
import {guardSecrets} from '../dist/output/redact.js'

guardSecrets()

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
