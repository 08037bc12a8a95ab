/** A command's config, loaded (or its errors told), and the store it names, opened for the command and closed after. */
import { existsSync } from 'node:fs';
import { formatConfigErrors, loadConfig, type Config } from '../config/index.js';
import { openStore, type Store } from '../core/index.js';
import type { Registry } from '../plugins/index.js';
import { EXIT } from './main.js';

/**
 * Loads the config at `file` with `registry`'s connectors, or writes its errors (each at its place in the file) to
 * stderr and resolves to undefined: the command then exits with EXIT.usage.
 *
 * @example
 * const config = await loadCommandConfig(file, builtinRegistry());
 * if (!config) return EXIT.usage;
 */
export async function loadCommandConfig(file: string, registry: Registry): Promise<Config | undefined> {
  try {
    return await loadConfig(file, { registry });
  } catch (error) {
    process.stderr.write(formatConfigErrors(error));
    return undefined;
  }
}

/**
 * Opens the config's store for `use` and closes it after, resolving to what `use` resolves to. A SQLite store that has
 * not been made yet is not made here: `command` says so (exit code 1), as a command that reads the store has nothing
 * to read before the first sync.
 *
 * @example
 * return withStore(config, 'segflow segments', (store) => report(store, config, now, json));
 */
export async function withStore(
  config: Config,
  command: string,
  use: (store: Store) => Promise<number>,
): Promise<number> {
  if (config.store.engine === 'sqlite' && !existsSync(config.store.path)) {
    process.stderr.write(`${command}: no store yet at ${config.store.shown}; run a sync first\n`);
    return EXIT.failed;
  }
  const store = await openStore(config.store.path);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}
