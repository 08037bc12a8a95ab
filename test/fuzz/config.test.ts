/**
 * Property: whatever text a config file holds, `loadConfig` gives a config or a `ConfigFileError` whose every issue
 * names the file, a line and a column; never another exception. Inputs: arbitrary text, random values dumped as YAML
 * under the real section names, and the example config with characters inserted or removed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { builtinRegistry } from '../../cli/builtins.js';
import { ConfigFileError, loadConfig } from '../../config/index.js';
import { tempDir } from '../support/temp.js';

const registry = builtinRegistry();
const dir = tempDir('segflow-fuzz-config-');
const file = join(dir, 'segflow.yaml');
const EXAMPLE = readFileSync(new URL('../../config/examples/file-only.yaml', import.meta.url), 'utf8');
const SECTIONS = [
  'store',
  'sources',
  'destinations',
  'segments',
  'features',
  'models',
  'jobs',
  'identity',
  'server',
  'currency',
  'protected_attributes',
];
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);

/** Loads `text` as a config file: 'ok', or the error when it is not a located ConfigFileError. */
async function outcome(text: string): Promise<'ok' | 'located' | Error> {
  writeFileSync(file, text);
  try {
    await loadConfig(file, { registry, env: { SEGFLOW_WRITE_KEY_WEBSITE: 'wk_fuzz_config_0123456789' } });
    return 'ok';
  } catch (error) {
    if (!(error instanceof ConfigFileError)) return error as Error;
    const unlocated = error.issues.find((i) => !i.file.endsWith('.yaml') || !(i.line >= 1) || !(i.column >= 1));
    return unlocated ? new Error(`issue without a place: ${JSON.stringify(unlocated)}`) : 'located';
  }
}

async function holds(text: string): Promise<void> {
  const result = await outcome(text);
  if (result instanceof Error) throw new Error(`${result.name}: ${result.message}\n--- input ---\n${text}`);
}

const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 12 }),
    fc.constantFrom('30d', '99999999999d', '${NOPE}', '__proto__', 'constructor', 'file', 'hubspot', '*/5 * * * *'),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('any'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.constantFrom('connector', 'config', 'rule', 'key', 'steps', 'read', '__proto__', 'constructor'),
      ),
      tie('any'),
      { maxKeys: 3 },
    ),
  ),
})).any;

describe('the YAML loader under arbitrary input', () => {
  it('arbitrary text', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 200 }), holds), { numRuns: RUNS });
  });

  it('random values under the real section names', async () => {
    const root = fc.dictionary(fc.constantFrom(...SECTIONS), value, { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(root, (r) => holds(stringify(r))),
      { numRuns: RUNS },
    );
  });

  it('the example config with characters inserted and removed', async () => {
    const edit = fc.record({
      at: fc.nat({ max: EXAMPLE.length }),
      remove: fc.nat({ max: 6 }),
      insert: fc.oneof(
        fc.string({ maxLength: 4 }),
        fc.constantFrom(':', '- ', '\n  ', '{', '[', '"', '${X}', '&a', '*a'),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        let text = EXAMPLE;
        for (const e of edits) text = text.slice(0, e.at) + e.insert + text.slice(e.at + e.remove);
        await holds(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('an alias with no anchor (found by this fuzzing) is a located error', async () => {
    for (const text of ['*!', 'store: { path: x.db }\nsources: *nowhere\n']) {
      writeFileSync(file, text);
      const error = await loadConfig(file, { registry }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigFileError);
      expect((error as Error).message).toMatch(/segflow\.yaml:\d+:\d+: .*alias/);
    }
  });

  it('the unedited example loads', async () => {
    expect(await outcome(EXAMPLE)).toBe('ok');
  });
});
