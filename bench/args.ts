// The command-line options of the benchmark scripts: `--name value` pairs, and the arguments that are neither.

/** The value after `--name` on the command line, or undefined. */
export function option(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

/** option(name) as a number, or `def` where the option is not given. */
export function numberOption(name: string, def: number): number {
  const v = option(name);
  return v === undefined ? def : Number(v);
}

/** The arguments after the script's path that are neither an option (`--name`) nor the value after one. */
export function positionals(): string[] {
  const args = process.argv.slice(2);
  return args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
}
