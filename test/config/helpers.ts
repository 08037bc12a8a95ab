/** Shared fixtures for the config tests: temp files, and where a piece of text sits in them (found independently). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { source as fileSource } from '../../connectors/file/index.js';
import { createRegistry, defineDestination, defineSource, secret, type Registry } from '../../plugins/index.js';
import { tempDir as makeTempDir } from '../support/temp.js';

export function tempDir(): string {
  return makeTempDir('segflow-config-');
}

/** Writes files under a fresh temp dir; returns the dir. */
export function writeFiles(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string, nth = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" not found ${nth} times`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

/** A connector with a secret field, standing in for a tool's API connector. */
export const vaultSource = defineSource({
  name: 'vault',
  spec: z.object({
    apiKey: secret(z.string().regex(/^vk_/, 'expected a key starting vk_')),
    region: z.enum(['eu', 'us']).default('eu'),
  }),
  async check() {
    return { ok: true };
  },
  streams: () => [],
});

export const vaultDestination = defineDestination({
  name: 'vault',
  spec: z.object({ apiKey: secret(z.string()), list: z.string() }),
  batchSize: 10,
  async check() {
    return { ok: true };
  },
  write: async (batch) => batch.changes.map(() => ({ status: 'accepted' as const })),
  readMembership: async () => [],
});

export function testRegistry(): Registry {
  return createRegistry([fileSource, vaultSource, vaultDestination]);
}
