/**
 * Flag parsing shared by the commands, on Node's own `parseArgs`: each command names the flags it takes, and an
 * unknown flag or a missing value is a usage error naming it.
 */
import { parseArgs as parseNodeArgs } from 'node:util';

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export class UsageError extends Error {}

/** Parses `argv` knowing the command's string flags (`--name value`) and boolean flags (`--flag`). */
export function parseArgs(
  argv: readonly string[],
  known: { strings?: readonly string[]; booleans?: readonly string[] },
): ParsedArgs {
  const options = Object.fromEntries([
    ...(known.strings ?? []).map((name) => [name, { type: 'string' as const }]),
    ...(known.booleans ?? []).map((name) => [name, { type: 'boolean' as const }]),
  ]);
  try {
    const { values, positionals } = parseNodeArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    const flags = new Map<string, string | true>();
    for (const [name, value] of Object.entries(values))
      if (value !== undefined && value !== false) flags.set(name, value as string | true);
    return { positional: positionals, flags };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
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
