import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigFileError, loadConfig } from '../../config/index.js';
import { CONTRACT_VERSION, createRegistry } from '../../plugins/index.js';
import { testRegistry } from '../config/helpers.js';
import { tempDir } from '../support/temp.js';

// A plugin as an author's folder holds it: plain JavaScript, importing zod (resolved here, since the temp folder has
// no node_modules of its own).
const connectorModule = (name: string) => `import { z } from ${JSON.stringify(import.meta.resolve('zod'))};
export const source = { type: 'source', name: ${JSON.stringify(name)}, contractVersion: ${CONTRACT_VERSION},
  spec: z.object({}), check: async () => ({ ok: true }), streams: () => [] };
`;

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** An operator's project folder: the config file, and whatever the plugin needs next to it. */
function project(files: Record<string, string>): string {
  const root = tempDir('segflow-plugin-loading-');
  folders.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

async function configError(path: string): Promise<string> {
  const error: unknown = await loadConfig(path, { registry: testRegistry(), env: {} }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigFileError);
  return (error as ConfigFileError).issues.map((issue) => issue.message).join('\n');
}

describe('plugin: in a config file', () => {
  it('names a package installed in the config file’s folder, whatever the working directory', async () => {
    const root = project({
      'ops/segflow.yaml': 'sources:\n  desk:\n    plugin: "@acme/segflow-desk"\n',
      'ops/node_modules/@acme/segflow-desk/package.json': JSON.stringify({
        name: '@acme/segflow-desk',
        type: 'module',
        exports: { '.': { types: './index.d.ts', import: './dist/index.js' } },
      }),
      'ops/node_modules/@acme/segflow-desk/dist/index.js': connectorModule('desk'),
    });
    const config = await loadConfig(join(root, 'ops/segflow.yaml'), { registry: testRegistry(), env: {} });
    expect(config.sources.desk?.connector).toBe('desk');
  });

  it('names a module by a path relative to the config file’s folder', async () => {
    const root = project({
      'ops/segflow.yaml': 'sources:\n  desk:\n    plugin: ./plugins/desk.mjs\n',
      'ops/plugins/desk.mjs': connectorModule('desk'),
    });
    const config = await loadConfig(join(root, 'ops/segflow.yaml'), { registry: testRegistry(), env: {} });
    expect(config.sources.desk?.connector).toBe('desk');
  });

  it('says where it looked when a relative path names no file', async () => {
    const root = project({ 'segflow.yaml': 'sources:\n  desk:\n    plugin: ./plugins/desk.mjs\n' });
    expect(await configError(join(root, 'segflow.yaml'))).toContain(
      `plugin file "./plugins/desk.mjs" does not exist (looked for ${join(root, 'plugins/desk.mjs')})`,
    );
  });

  it('shows why a plugin failed to load', async () => {
    const root = project({
      'segflow.yaml': 'sources:\n  desk:\n    plugin: ./desk.mjs\n',
      'desk.mjs': "throw new Error('HELPDESK_REGION is not set');\n",
    });
    expect(await configError(join(root, 'segflow.yaml'))).toContain(
      'plugin "./desk.mjs" failed to load: HELPDESK_REGION is not set',
    );
  });

  it('shows the missing module a plugin imports, not "is not installed" for the plugin itself', async () => {
    const root = project({
      'segflow.yaml': 'sources:\n  desk:\n    plugin: "@acme/segflow-desk"\n',
      'node_modules/@acme/segflow-desk/package.json': JSON.stringify({ name: '@acme/segflow-desk', main: 'index.mjs' }),
      'node_modules/@acme/segflow-desk/index.mjs': "import 'helpdesk-sdk-not-installed';\n",
    });
    const message = await configError(join(root, 'segflow.yaml'));
    expect(message).toContain('plugin "@acme/segflow-desk" failed to load');
    expect(message).toContain("'helpdesk-sdk-not-installed'");
  });

  it('refuses a plugin connector named like a built-in, so `file` keeps meaning the built-in', async () => {
    const root = project({
      'segflow.yaml': 'sources:\n  desk:\n    plugin: ./file.mjs\n  shop:\n    connector: file\n    config: {}\n',
      'file.mjs': connectorModule('file'),
    });
    expect(await configError(join(root, 'segflow.yaml'))).toContain(
      'plugin "./file.mjs" exports a source connector named "file", a name segflow already has',
    );
  });
});

describe('the registry loading a plugin', () => {
  it('loads the same plugin twice without calling it a collision', async () => {
    const root = project({ 'desk.mjs': connectorModule('desk') });
    const registry = createRegistry();
    expect(await registry.loadPlugin('./desk.mjs', { from: root })).toEqual(['desk']);
    expect(await registry.loadPlugin('./desk.mjs', { from: root })).toEqual(['desk']);
  });
});
