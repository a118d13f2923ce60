import {randomBytes} from 'node:crypto'
import {chmod, mkdir, open, readFile, rename, rm} from 'node:fs/promises'
import {homedir} from 'node:os'
import {dirname, isAbsolute, join} from 'node:path'

import {QctlError} from '../errors.js'
import {emptyProfiles, parseProfilesFile, type ProfilesFile} from './profile.js'

/**
 * Where profiles live: `$XDG_CONFIG_HOME/qctl/profiles.json`, else `~/.config/qctl/profiles.json`
 * (the XDG base directory rules: a relative `$XDG_CONFIG_HOME` is ignored); on Windows,
 * `%APPDATA%\qctl\profiles.json`.
 */
export function profilesPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir(), platform: NodeJS.Platform = process.platform): string {
  const xdg = env.XDG_CONFIG_HOME
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'qctl', 'profiles.json')
  if (platform === 'win32' && env.APPDATA !== undefined && env.APPDATA !== '') return join(env.APPDATA, 'qctl', 'profiles.json')
  return join(home, '.config', 'qctl', 'profiles.json')
}

/** Where profiles are read from and written to; a file that does not exist holds no profiles. */
export class ProfileStore {
  constructor(readonly path: string = profilesPath()) {}

  async load(): Promise<ProfilesFile> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return emptyProfiles()
      throw new QctlError('INVALID_INPUT', `cannot read profiles from ${this.path}: ${code ?? 'unknown error'}`)
    }
    return parseProfilesFile(text, this.path)
  }

  /**
   * Replace the file as a whole: written to a temporary file beside it (mode 0600 from its
   * creation, so the content is never readable by others, not even for an instant), flushed, then
   * renamed over the old one, so a crash or a full disk leaves the old file or the new one, never
   * half of one. The directory is made private (0700).
   */
  async save(file: ProfilesFile): Promise<void> {
    const dir = dirname(this.path)
    try {
      await mkdir(dir, {recursive: true, mode: 0o700})
      if (process.platform !== 'win32') await chmod(dir, 0o700)
    } catch (error) {
      throw new QctlError('INVALID_INPUT', `cannot create ${dir} for profiles: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`)
    }
    const temporary = join(dir, `.profiles.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
    try {
      const handle = await open(temporary, 'wx', 0o600)
      try {
        // The mode given to open() is reduced by the umask; chmod makes it exactly 0600.
        await handle.chmod(0o600)
        await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`, 'utf8')
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temporary, this.path)
    } catch (error) {
      await rm(temporary, {force: true})
      throw new QctlError('INVALID_INPUT', `cannot write profiles to ${this.path}: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`)
    }
  }
}
