import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../core/index.js';
import { postgres, sqlite } from './support/engines.js';
import { tempDir } from './support/temp.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The command lines of the README's ```sh blocks, without their comments. */
function readmeCommands(): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

// `npm install` and `npm test` are what CI itself runs; `npm start` is the demo at 20,000 people, run here through
// the same command at a smaller size (`segflow demo --people 500` below, and test/e2e/demo.test.ts).
const RUN_BY_CI = new Set(['npm install', 'npm test', 'npm start']);

/**
 * The README's commands name `config/examples/*.yaml`, whose store is `.segflow/…` under the working folder. The tests
 * run them on copies whose store lives in a temp folder (one per example, shared by the commands in README order), so
 * a run leaves nothing in the clone; the data files are read from the clone through `SEGFLOW_EXAMPLE_DATA`.
 */
const exampleCopies = new Map<string, string>();
function exampleCopy(arg: string): string {
  if (!/^config\/examples\/[\w-]+\.yaml$/.test(arg)) return arg;
  let copy = exampleCopies.get(arg);
  if (!copy) {
    const dir = tempDir('segflow-readme-example-');
    copy = join(dir, arg.split('/').pop()!);
    const text = readFileSync(join(root, arg), 'utf8').replace(/^(\s*path: )\.segflow\//m, `$1${dir}/`);
    writeFileSync(copy, text);
    exampleCopies.set(arg, copy);
  }
  return copy;
}

describe('the README tells the truth', () => {
  it('shows the plugin example exactly as the tested file has it', () => {
    const example = readFileSync(join(root, 'test/plugin-example/helpdesk.ts'), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```');
  });

  const commands = readmeCommands();
  it('has commands to run', () => expect(commands.length).toBeGreaterThan(4));

  for (const line of commands.filter((c) => !RUN_BY_CI.has(c))) {
    it(`\`${line}\` works`, { timeout: 300_000 }, async () => {
      expect(line.startsWith('segflow ')).toBe(true);
      const args = line.split(/\s+/).slice(1);
      if (args[0] === 'sandbox') {
        // runs until Ctrl-C: start it on a free port, wait for its URL, stop it
        const child = spawn(
          process.execPath,
          ['bin/segflow.js', ...args.map((a, i) => (args[i - 1] === '--port' ? '0' : a))],
          { cwd: root },
        );
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 60_000);
          child.stdout.on('data', () => {
            if (/listening on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
        child.kill('SIGINT');
        const printed = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1)) as {
          tool: string;
          url: string;
          credentials: Record<string, unknown>;
        };
        expect(printed.tool).toBe(args[1]);
        expect(out).toContain(printed.url);
        expect(Object.values(printed.credentials).some((v) => typeof v === 'string' && v.length > 0)).toBe(true);
        return;
      }
      const extra = args[0] === 'demo' ? ['--store', join(tempDir('segflow-readme-'), 'demo.db')] : [];
      // `store copy` moves the default store (here a fresh one in a temp folder) to "$SEGFLOW_DATABASE_URL", which a
      // shell would expand: here an empty database on the tests' PostgreSQL server.
      const database = line.includes('"$SEGFLOW_DATABASE_URL"') ? await postgres.fresh() : undefined;
      const local = args.includes('.segflow/segflow.db') ? await sqlite.fresh() : undefined;
      if (local) await (await openStore(local.location)).close();
      try {
        const given = args.map((a) =>
          a === '"$SEGFLOW_DATABASE_URL"'
            ? database!.location
            : a === '.segflow/segflow.db'
              ? local!.location
              : exampleCopy(a),
        );
        const result = spawnSync(process.execPath, ['bin/segflow.js', ...given, ...extra], {
          cwd: root,
          encoding: 'utf8',
          timeout: 280_000,
        });
        expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      } finally {
        await database?.remove();
        await local?.remove();
      }
    });
  }

  it('keeps the example configs’ stores in a temp folder, not in the clone', () => {
    expect(exampleCopies.size).toBeGreaterThan(0);
    for (const copy of exampleCopies.values()) {
      const store = /^\s*path: (\S+)$/m.exec(readFileSync(copy, 'utf8'))![1]!;
      expect(store.startsWith(join(copy, '..'))).toBe(true);
      expect(existsSync(store), store).toBe(true);
    }
  });
});

describe('the README’s YAML examples', () => {
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  it('has examples', () => expect(blocks.length).toBeGreaterThan(1));

  blocks.forEach((yaml, i) => {
    it(`example ${i + 1} is a config \`segflow validate\` accepts`, () => {
      const dir = tempDir('segflow-readme-yaml-');
      const file = join(dir, 'segflow.yaml');
      writeFileSync(file, yaml.replace(/config\/examples\//g, join(root, 'config/examples/')));
      // every ${VAR} the example reads gets a stand-in value, as a deployment's environment would give a real one
      const env: Record<string, string> = {};
      for (const [, name] of yaml.matchAll(/\$\{([A-Z0-9_]+)/g))
        env[name!] =
          name === 'MAILCHIMP_API_KEY'
            ? '0123456789abcdef0123456789abcdef-us21'
            : name === 'SEGFLOW_DATABASE_URL'
              ? 'postgres://segflow:stand-in@db.example:5432/segflow'
              : 'stand-in';
      const result = spawnSync(process.execPath, ['bin/segflow.js', 'validate', file], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, ...env },
        timeout: 60_000,
      });
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    });
  });
});
