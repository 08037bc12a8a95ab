/**
 * Where a `plugin:` value points: a relative or absolute path, a `file:` URL, or a package installed in the
 * `node_modules` of the config file's folder or one above it, the way Node finds a package an author's own code
 * imports. A package found nowhere there is left to Node to resolve from segflow's own install.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What {@link resolvePlugin} found: the specifier to import, and whether segflow located the module itself. */
export interface ResolvedPlugin {
  /** A `file:` URL when located, else the bare package name for Node to resolve. */
  specifier: string;
  /** Where it was found (a file or a package folder), for messages; absent when left to Node. */
  location?: string;
  /** A relative or absolute path, as opposed to a package name. */
  isPath: boolean;
}

/**
 * Resolves `plugin` from the folder `from` (the config file's folder).
 *
 * @example
 * resolvePlugin('./plugins/helpdesk.js', '/srv/segflow'); // { specifier: 'file:///srv/segflow/plugins/helpdesk.js', … }
 * resolvePlugin('@acme/segflow-helpdesk', '/srv/segflow'); // …/srv/segflow/node_modules/@acme/segflow-helpdesk/index.js
 */
export function resolvePlugin(plugin: string, from: string): ResolvedPlugin {
  if (plugin.startsWith('file:')) return { specifier: plugin, isPath: true };
  if (plugin.startsWith('./') || plugin.startsWith('../') || isAbsolute(plugin)) {
    const path = resolve(from, plugin);
    if (existsSync(path) && statSync(path).isDirectory()) {
      const entry = packageEntry(path, '.');
      return { specifier: pathToFileURL(entry).href, location: path, isPath: true };
    }
    return { specifier: pathToFileURL(path).href, location: path, isPath: true };
  }
  const parts = plugin.split('/');
  const nameLength = plugin.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const folder = join(dir, 'node_modules', name);
    if (existsSync(join(folder, 'package.json'))) {
      return { specifier: pathToFileURL(packageEntry(folder, subpath)).href, location: folder, isPath: false };
    }
    if (dirname(dir) === dir) return { specifier: plugin, isPath: false };
  }
}

type ExportTarget = string | null | ExportTarget[] | { [key: string]: ExportTarget };

/** The file an ESM import of `subpath` of the package in `folder` loads: its `exports` (import conditions), else `main`. */
function packageEntry(folder: string, subpath: string): string {
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
    exports?: ExportTarget;
    main?: string;
  };
  if (manifest.exports !== undefined && manifest.exports !== null) {
    const exports = manifest.exports;
    const bySubpath =
      typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'))
        ? exports[subpath]
        : subpath === '.'
          ? exports
          : undefined;
    const target = pickCondition(bySubpath ?? null);
    if (target) return join(folder, target);
    return join(folder, subpath === '.' ? 'index.js' : subpath);
  }
  if (subpath !== '.') return join(folder, subpath);
  return join(folder, manifest.main ?? 'index.js');
}

const IMPORT_CONDITIONS = new Set(['import', 'node', 'default']);

function pickCondition(target: ExportTarget): string | undefined {
  if (target === null) return undefined;
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) return target.map(pickCondition).find((t) => t !== undefined);
  for (const [condition, value] of Object.entries(target)) {
    if (!IMPORT_CONDITIONS.has(condition)) continue;
    const picked = pickCondition(value);
    if (picked !== undefined) return picked;
  }
  return undefined;
}
