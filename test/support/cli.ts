/** Running a `segflow` subcommand in the test's own process, with what it writes captured. */
import { vi } from 'vitest';
import type { Command } from '../../cli/main.js';

/**
 * Runs `command` with `argv`: its exit code, and what it wrote to stdout and stderr (nothing reaches the terminal).
 *
 * @example
 * const { code, err } = await runCommand(command, 'preview', config, 'vip');
 */
export async function runCommand(
  command: Command,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return { code: await command.run(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
