/**
 * The architecture's import table (ARCHITECTURE.md, "Folders and who may import whom") as an ESLint rule, so that
 * `npm test` fails on an import that crosses a layer the wrong way. Each import (static, dynamic, `export … from`,
 * type-only too) is resolved against the importing file, so a relative path is judged by the folder it reaches, not by
 * how it is written. It also keeps importers from other folders on the barrels (`index.ts`) of the subfolders of
 * `core/`, `sync/` and `server/`.
 *
 * @example
 * // in connectors/hubspot/source.ts
 * import { openStore } from '../../core/index.js'; // error: connectors/ may import plugins/ and its own folder only
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** Top folder → the top folders it may import (besides itself), and the reason shown. */
const TABLE = {
  plugins: { may: [], says: 'plugins/ imports nothing of ours (a plugin author codes against plugins/ alone)' },
  connectors: { may: ['plugins'], says: 'a connector may import plugins/ and its own folder only' },
  core: { may: [], says: 'core/ may import libraries and the leaf modules of plugins/model only' },
  sync: { may: ['core', 'plugins'], says: 'sync/ may import core/ and plugins/ (sync/jobs also config/)' },
  config: { may: ['plugins'], says: "config/ may import plugins/ and core's rule grammar (core/segments/grammar.ts)" },
  server: { may: ['sync', 'core', 'config', 'plugins'], says: 'server/ may import sync/, core/, config/, plugins/' },
  cli: {
    may: ['plugins', 'connectors', 'core', 'sync', 'config', 'server'],
    says: 'cli/ may import every folder but test/ and bench/',
  },
  test: { any: true },
  bench: { any: true },
};

/** Single files a folder may import outside its row, as paths from the repository root (without extension). */
const EXCEPTIONS = {
  core: ['plugins/model/'],
  config: ['core/segments/grammar'],
  'sync/jobs': ['config/'],
};

/** Folders whose subfolders other folders import through their index.ts only. */
const BARRELLED = ['core', 'sync', 'server'];

/** The repository-relative path an import reaches, or undefined for a package that is not segflow itself. */
function target(source, filename) {
  if (source.startsWith('segflow/')) return source.slice('segflow/'.length);
  if (!source.startsWith('.')) return undefined;
  return relative(ROOT, resolve(dirname(filename), source))
    .split(sep)
    .join('/');
}

/** What is wrong with `from` importing `to` (repository-relative paths), or undefined. */
export function violation(from, to) {
  const [fromTop] = from.split('/');
  const [toTop, toSub] = to.split('/');
  const row = TABLE[fromTop];
  if (!row || row.any || toTop.startsWith('..') || !(toTop in TABLE)) return undefined;
  const bare = to.replace(/\.(js|ts)$/, '');
  if (toTop !== fromTop) {
    const excepted = Object.entries(EXCEPTIONS).some(
      ([folder, allowed]) =>
        (from === folder || from.startsWith(`${folder}/`)) &&
        allowed.some((a) => (a.endsWith('/') ? to.startsWith(a) : bare === a)),
    );
    if (!excepted && !row.may.includes(toTop)) return `${row.says}: ${from} imports ${to}`;
  } else if (fromTop === 'connectors' && from.split('/')[1] !== toSub) {
    return `${row.says}: ${from} imports ${to}`;
  }
  // from another folder, a subfolder of core/, sync/ or server/ is entered through its barrel (an index.ts)
  if (toTop !== fromTop && BARRELLED.includes(toTop) && toSub !== undefined && to.split('/').length > 2) {
    const grammar = bare === 'core/segments/grammar' && fromTop === 'config';
    if (!grammar && !/\/index\.(js|ts)$/.test(to))
      return `import ${toTop}/${toSub}/ through its index (${toTop}/${toSub}/index.js or ${toTop}/index.js): ${from} imports ${to}`;
  }
  return undefined;
}

export const folderImports = {
  meta: {
    type: 'problem',
    docs: { description: "enforces ARCHITECTURE.md's table of which folder may import which" },
    schema: [],
  },
  create(context) {
    const from = relative(ROOT, context.filename).split(sep).join('/');
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      const to = target(source, context.filename);
      const problem = to === undefined ? undefined : violation(from, to);
      if (problem) context.report({ node, message: problem });
    };
    const fromSource = (node) => node.source && check(node.source, node.source.value);
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};
