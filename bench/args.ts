// Command-line options of the benchmarks: `--name` flags and `--name value` options.
const argv = process.argv.slice(2);

/** `--name` was given. */
export const flag = (name: string): boolean => argv.includes(`--${name}`);

/** The value after `--name`, or `dflt`. */
export function opt(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
}

/** A numeric `--name value`, or `dflt`. */
export const num = (name: string, dflt: number): number => Number(opt(name, String(dflt)));
