import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closedFolderAbove } from './postgres.js';
import { tempDir } from './temp.js';

// As root the tests' PostgreSQL runs as the postgres user: a checkout in a private folder must be named, not crash.
describe('the folder the PostgreSQL user cannot enter', () => {
  it('is the deepest one above the binaries without an execute bit for others', () => {
    const root = tempDir('segflow-closed-');
    const checkout = join(root, 'checkout');
    mkdirSync(join(checkout, 'node_modules'), { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(checkout, 0o700);
    const binary = join(checkout, 'node_modules', 'postgres');
    expect(closedFolderAbove(binary)).toBe(checkout);
    chmodSync(checkout, 0o755);
    // Open all the way from the checkout up to the run's temp folder, which only its owner may enter.
    expect(closedFolderAbove(binary)).not.toBe(checkout);
    expect(closedFolderAbove(binary)).not.toBe(root);
  });
});
