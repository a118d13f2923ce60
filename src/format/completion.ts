/** The steps `qctl autocomplete fish` prints (the plugin prints its own for bash, zsh and PowerShell). */
export function formatFishInstructions(bin: string): string[] {
  return [
    '',
    `Setup Instructions for ${bin.toUpperCase()} CLI Autocomplete (fish) ---`,
    '',
    '1) Write the completion script where fish looks for completions:',
    '',
    `  ${bin} autocomplete script fish > ~/.config/fish/completions/${bin}.fish`,
    '',
    '2) Start a new fish (or run: source ~/.config/fish/completions/' + bin + '.fish), then:',
    '',
    `  ${bin} <TAB>                  # commands`,
    `  ${bin} lag <TAB>              # topic names from Redis (a profile or $QCTL_REDIS_URL)`,
    `  ${bin} command --<TAB>        # flags, with their summaries`,
    '',
  ]
}
