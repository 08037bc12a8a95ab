/**
 * A small flag parser shared by the commands: `--name value`, `--name=value` and boolean `--flag`.
 */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (eq > 0) flags.set(name, arg.slice(eq + 1));
    else if (booleans.includes(name) || i + 1 >= argv.length || argv[i + 1]!.startsWith('--')) flags.set(name, true);
    else flags.set(name, argv[++i]!);
  }
  return { positional, flags };
}

/** A flag's whole-number value, or `fallback`; throws a usage error naming the flag otherwise. */
export function intFlag(args: ParsedArgs, name: string, fallback?: number): number | undefined {
  const value = args.flags.get(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value === true || !Number.isInteger(n) || n < 0)
    throw new UsageError(`--${name} takes a whole number, got "${String(value)}"`);
  return n;
}

export class UsageError extends Error {}
