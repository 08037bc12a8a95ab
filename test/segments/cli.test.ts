import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command } from '../../cli/commands/segments.js';
import { command as validate } from '../../cli/commands/validate.js';
import { computeFeatures } from '../../core/features/index.js';
import { openStore } from '../../core/index.js';
import { evaluateSegments } from '../../core/segments/index.js';
import { CURRENCY, NOW, fixtureRecords, load } from '../features/fixture.js';
import { engines, storeYaml, type StoreLocation } from '../support/engines.js';
import { runCommand } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let config: string;
let place: StoreLocation;

const run = (...argv: string[]) => runCommand(command, ...argv);

for (const engine of engines)
  describe(`segflow segments on ${engine.name}`, () => {
    beforeAll(async () => {
      dir = tempDir('segflow-preview-');
      place = await engine.fresh();
      const store = await openStore(place.location);
      await load(store, fixtureRecords());
      await computeFeatures(store, { now: NOW, currency: CURRENCY });
      await store.close();
      config = join(dir, 'segflow.yaml');
      writeFileSync(
        config,
        `store: ${storeYaml(place.location)}\nsegments:\n  - include: ${JSON.stringify(resolve('config/segments/starter.yaml'))}\n  - key: fr\n    rule: { trait: country, eq: FR }\n`,
      );
      writeFileSync(
        join(dir, 'extra.yaml'),
        'segments:\n  - key: fr_buyers\n    rule: { all: [ { in_segment: fr }, { event: purchase } ] }\n',
      );
    });
    afterAll(async () => {
      await place.remove();
      rmSync(dir, { recursive: true, force: true });
    });

    describe(`segflow segments preview on ${engine.name}`, () => {
      it('prints the count and a sample of a configured segment and saves nothing', async () => {
        const { code, out } = await run(
          'preview',
          config,
          'rfm_about_to_sleep',
          '--now',
          NOW.toISOString(),
          '--sample',
          '1',
        );
        expect(code).toBe(0);
        expect(out).toContain('segment rfm_about_to_sleep (RFM: About to Sleep): 2 contacts');
        expect(out).toContain('bob@example.com');
        expect(out).toContain('… and 1 more');
        const store = await openStore(place.location);
        expect(await store.get('SELECT COUNT(*) AS n FROM memberships')).toEqual({ n: 0 });
        await store.close();
      });

      it('prints the same preview as JSON with --json', async () => {
        const { code, out } = await run('preview', config, 'rfm_about_to_sleep', '--now', NOW.toISOString(), '--json');
        expect(code).toBe(0);
        const parsed = JSON.parse(out) as {
          segments: { key: string; name: string; count: number; sample: { email: string }[] }[];
        };
        expect(parsed.segments).toHaveLength(1);
        expect(parsed.segments[0]).toMatchObject({ key: 'rfm_about_to_sleep', name: 'RFM: About to Sleep', count: 2 });
        expect(parsed.segments[0]!.sample.map((m) => m.email)).toContain('bob@example.com');
      });

      it('previews the segments of a file, which may refer to the config’s segments', async () => {
        const { code, out } = await run('preview', config, join(dir, 'extra.yaml'), '--now', NOW.toISOString());
        expect(code).toBe(0);
        expect(out).toContain('segment fr_buyers: 1 contact\n');
        expect(out).toContain('ada@example.com');
      });

      it('refuses an unknown segment key with exit code 2', async () => {
        const { code, err } = await run('preview', config, 'frr');
        expect(code).toBe(2);
        expect(err).toContain('unknown segment "frr"');
      });
    });

    describe('segflow validate compiles the segment rules', () => {
      it('fails on a cycle between segments and an unknown feature, naming where each was written', async () => {
        const file = join(dir, 'broken.yaml');
        writeFileSync(
          file,
          [
            'segments:',
            '  - key: a',
            '    rule: { in_segment: b }',
            '  - key: b',
            '    rule:',
            '      all:',
            '        - { in_segment: a }',
            '        - { feature: monetary_356d, gt: 10 }',
            '',
          ].join('\n'),
        );
        const { code, out, err } = await runCommand(validate, file);
        expect(code).toBe(2);
        expect(out).toBe('');
        expect(err).toContain(`${file}:3:`); // a's in_segment
        expect(err).toMatch(/cycle: a -> b -> a/);
        expect(err).toMatch(
          new RegExp(
            `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:\\d+: segment b: rule\\.all\\[1\\]\\.feature: unknown feature "monetary_356d"`,
          ),
        );
      });

      it('passes the starter segments', async () => {
        const { code, out } = await runCommand(validate, config);
        expect(code).toBe(0);
        expect(out).toContain('is valid');
      });
    });
  });

for (const engine of engines)
  describe(`segflow segments report on ${engine.name}`, () => {
    it('prints the last run per segment with its drift alert', async () => {
      const own = tempDir('segflow-report-');
      const place = await engine.fresh();
      try {
        const store = await openStore(place.location);
        await load(store, fixtureRecords());
        await evaluateSegments(store, [{ key: 'fr', rule: { trait: 'country', in: ['FR'] } }], { now: NOW });
        await evaluateSegments(store, [{ key: 'fr', rule: { trait: 'country', in: ['XX'] } }], { now: NOW });
        await store.close();
        const file = join(own, 'segflow.yaml');
        writeFileSync(
          file,
          `store: ${storeYaml(place.location)}\nsegments:\n  - key: fr\n    holdout: { share: 20%, outcome: churn, days: 30 }\n    rule: { trait: country, eq: FR }\n`,
        );
        const { code, out } = await run('report', file, '--now', NOW.toISOString());
        expect(code).toBe(0);
        expect(out).toMatch(/^fr\s+0\s+0\s+0\s+2\s+0\.0%\s+ALERT$/m);
        expect(out).toMatch(/drift alerts \(1\):\n {2}segment fr: 100% of its members moved at once/);
        expect(out).toMatch(/fr: churned share over 30 days: .*not enough members yet/);
        const json = await run('report', file, '--now', NOW.toISOString(), '--json');
        expect(json.code).toBe(0);
        const parsed = JSON.parse(json.out) as {
          run: { segments: { key: string; size: number; exited: number; drift: boolean }[]; driftAlerts: string[] };
          holdouts: { segment: string; outcome: string }[];
        };
        expect(parsed.run.segments).toEqual([expect.objectContaining({ key: 'fr', size: 0, exited: 2, drift: true })]);
        expect(parsed.run.driftAlerts).toHaveLength(1);
        expect(parsed.holdouts).toEqual([expect.objectContaining({ segment: 'fr', outcome: 'churn' })]);
      } finally {
        await place.remove();
        rmSync(own, { recursive: true, force: true });
      }
    });
  });
