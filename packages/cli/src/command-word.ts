/**
 * The command groups a command line needs, read from the line alone, before anything is loaded: the group its
 * command word names (`capkit --json otp generate …` → otp), none for `capkit --version`, or all of them (no
 * command, `help`, a misspelt name: the full help and commander's suggestions need every definition). The
 * global options are all flags, so the command word is the first argument not starting with "-".
 *
 * The executable (bin.ts) uses it to load only that group's bundle, and main.ts to define only those commands.
 */
export function groupsNeeded(args: readonly string[], groups: readonly string[]): readonly string[] {
  const word = args.find((a) => !a.startsWith("-"));
  if (word !== undefined) return groups.includes(word) ? [word] : groups;
  return args.includes("-V") || args.includes("--version") ? [] : groups;
}
