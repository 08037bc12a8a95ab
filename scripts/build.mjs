// `npm run build`: compiles the sources to dist/ with declarations (tsc, no bundler), removes what a deleted source
// left behind in dist/ (tsc builds incrementally and never deletes), and copies the files the code reads at run time
// (the console's assets, the example configs the demo uses). Plain JavaScript, so building needs no tsx.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
/** Folders (and files) the code reads at run time, through `new URL('…', import.meta.url)`, or the examples point at. */
const ASSETS = ['server/console/assets', 'config/examples', 'config/segments', 'config/segflow.schema.json'];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compile = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compile.status !== 0) process.exit(compile.status ?? 1);

const compiledSuffix = /(\.d\.ts|\.js)$/;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !compiledSuffix.test(entry.name)) continue;
  const file = join(entry.parentPath, entry.name);
  const inDist = relative(dist, file);
  if (ASSETS.some((folder) => inDist.startsWith(folder + '/'))) continue;
  const source = join(root, inDist.replace(compiledSuffix, '.ts'));
  if (!existsSync(source)) rmSync(file);
}

for (const folder of ASSETS) {
  rmSync(join(dist, folder), { recursive: true, force: true });
  cpSync(join(root, folder), join(dist, folder), { recursive: true });
}
process.stderr.write(`built ${relative(process.cwd(), dist)}/\n`);
