/**
 * What `segflow segments show`, `preview` and `report` share: the arguments each takes, the config they load, the
 * segment key or segments file they name, and a store that does not exist yet (which `empty` does not make either). The subcommands' own output is pinned
 * in cli.test.ts; here, that they answer alike where they should.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { command } from '../../cli/commands/segments.js';
import { runCommand } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let config: string;
let extra: string;

const run = (...argv: string[]) => runCommand(command, ...argv);

beforeAll(() => {
  dir = tempDir('segflow-segments-cli-');
  config = join(dir, 'segflow.yaml');
  // The store file is never made: preview and report say so, show does not need it.
  writeFileSync(
    config,
    `store: { path: ${JSON.stringify(join(dir, 'never-made.db'))} }
segments:
  - key: fr
    name: French contacts
    rule: { trait: country, eq: FR }
  - key: buyers
    rule: { event: purchase }
`,
  );
  extra = join(dir, 'extra.yaml');
  writeFileSync(
    extra,
    'segments:\n  - key: fr_buyers\n    rule: { all: [ { in_segment: fr }, { in_segment: buyers } ] }\n',
  );
});

describe('segflow segments: the preamble every subcommand shares', () => {
  it('show prints the rule of a configured segment, or of every segment of a file, in words', async () => {
    const byKey = await run('show', config, 'fr');
    expect(byKey).toMatchObject({ code: 0, err: '' });
    expect(byKey.out).toMatch(/^segment fr \(French contacts\)\n {2}\S/);
    const byFile = await run('show', config, extra);
    expect(byFile.code).toBe(0);
    expect(byFile.out).toMatch(/^segment fr_buyers\n/);
    expect(byFile.out).not.toContain('segment fr ');
  });

  it('refuses an unknown segment and a missing segments file alike, with exit code 2', async () => {
    for (const sub of ['show', 'preview']) {
      const unknown = await run(sub, config, 'frr');
      expect(unknown.code).toBe(2);
      expect(unknown.err).toContain('unknown segment "frr" (the config defines: fr, buyers)');
      const missing = await run(sub, config, join(dir, 'nowhere.yaml'));
      expect(missing.code).toBe(2);
      expect(missing.err).toContain(`cannot read ${join(dir, 'nowhere.yaml')}: no such file`);
    }
  });

  it('asks for what is missing and refuses what is extra, per subcommand', async () => {
    for (const [argv, message] of [
      [['show', config], 'name the config file and a segment key or file'],
      [['preview'], 'name the config file and a segment key or file'],
      [['report'], 'segflow segments: name the config file\n'],
      [['report', config, 'fr'], 'unexpected argument "fr"'],
      [['show', config, 'fr', 'buyers'], 'unexpected argument "buyers"'],
    ] as const) {
      const { code, err } = await run(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err, argv.join(' ')).toContain(message);
    }
  });

  it('reports an invalid config at its place, with exit code 2, whichever subcommand loads it', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'segments:\n  - key: fr\n    rule: { trait: country, eqq: FR }\n');
    for (const argv of [
      ['show', broken, 'fr'],
      ['preview', broken, 'fr'],
      ['report', broken],
    ]) {
      const { code, err } = await run(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err, argv.join(' ')).toContain(`${broken}:3:`);
    }
  });

  it('preview, report and empty say there is no store yet, with exit code 1, and make none', async () => {
    for (const [command, argv] of [
      ['segflow segments', ['preview', config, 'fr']],
      ['segflow segments', ['report', config]],
      ['segflow segments empty', ['empty', config, 'fr']],
    ] as const) {
      const { code, err } = await run(...argv);
      expect(code, argv.join(' ')).toBe(1);
      expect(err).toContain(`${command}: no store yet at ${join(dir, 'never-made.db')}; run a sync first`);
    }
    expect(existsSync(join(dir, 'never-made.db'))).toBe(false);
  });
});
