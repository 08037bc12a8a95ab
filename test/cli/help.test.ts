import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';

const commands = readdirSync(new URL('../../cli/commands/', import.meta.url))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Runs `segflow …argv` in this process; resolves to its exit code and what it wrote to stdout. */
async function segflow(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stdout };
}

afterEach(() => vi.restoreAllMocks());

describe('segflow --version and --help', () => {
  it('prints the package version', async () => {
    expect(await segflow('--version')).toEqual({ code: 0, stdout: `segflow ${version}\n` });
  });

  it.each(commands)('segflow %s --help prints its usage and exits 0', async (name) => {
    const { code, stdout } = await segflow(name, '--help');
    expect(code).toBe(0);
    expect(stdout).toContain(`segflow ${name}`);
  });
});
