import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ContactRecord, EventRecord, EventType } from '../../plugins/model/index.js';
import { openStore, type Store } from '../../core/index.js';
import { tempDir as makeTempDir } from '../support/temp.js';

/** A fresh directory for store files, removed by the returned cleanup (or after the file's last test). */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = makeTempDir('segflow-store-');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A store in a fresh temp file; `close()` also removes the file. */
export async function tempStore(): Promise<Store & { file: string }> {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'segflow.db');
  const store = await openStore(file);
  const close = store.close.bind(store);
  return Object.assign(store, {
    file,
    close: async () => {
      await close();
      cleanup();
    },
  });
}

export function contact(
  source: string,
  externalId: string,
  traits: ContactRecord['traits'] = {},
  extra: Partial<Pick<ContactRecord, 'linkedIds' | 'deleted' | 'raw'>> = {},
): ContactRecord {
  return { kind: 'contact', source, externalId, traits, ...extra };
}

export function event(
  source: string,
  sourceEventId: string,
  who: EventRecord['contact'],
  type: EventType = 'email_open',
  occurredAt = '2026-01-05T10:00:00Z',
  value?: number,
): EventRecord {
  return {
    kind: 'event',
    source,
    sourceEventId,
    type,
    occurredAt,
    contact: who,
    ...(value !== undefined ? { value } : {}),
  };
}

/** A seeded PRNG (mulberry32), so generated inputs are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export async function count(store: Store, table: string): Promise<number> {
  return ((await store.get(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number }).n;
}
