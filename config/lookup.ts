/**
 * Lookups of config entries by a name that came from outside (a URL, a command line, another entry): only the
 * entries the config defines answer, never what every object inherits (`__proto__`, `constructor`, `toString`).
 */

/**
 * The entry of `entries` named `name`, or undefined when the config defines none by that name.
 *
 * @example
 * const job = namedEntry(config.jobs, c.req.param('name')); // undefined for "__proto__"
 */
export function namedEntry<T>(entries: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(entries, name) ? entries[name] : undefined;
}

/**
 * Whether `entries` defines an entry named `name` (its own, not an inherited property).
 *
 * @example
 * if (!hasEntry(config.models, name)) throw new Error(`no model "${name}"`);
 */
export function hasEntry(entries: Readonly<Record<string, unknown>>, name: string): boolean {
  return Object.hasOwn(entries, name);
}
