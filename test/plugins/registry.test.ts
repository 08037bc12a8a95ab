import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { PluginError } from '../../plugins/index.js';
import { CONTRACT_VERSION, createRegistry, defineSource } from '../../plugins/index.js';
import { tempDir } from '../support/temp.js';

const tiny = defineSource({
  name: 'tiny',
  spec: z.object({}),
  check: async () => ({ ok: true }),
  streams: () => [],
});

function pluginFile(source: string): string {
  const dir = tempDir('segflow-plugin-');
  const file = join(dir, 'index.mjs');
  writeFileSync(file, source);
  return pathToFileURL(file).href;
}

describe('the connector registry', () => {
  it('finds built-ins by name and type', () => {
    const registry = createRegistry([tiny]);
    expect(registry.source('tiny')).toBe(tiny);
    expect(registry.names('source')).toEqual(['tiny']);
    expect(() => registry.destination('tiny')).toThrow(/unknown destination connector "tiny"/);
  });

  it('names the known connectors when one is unknown', () => {
    expect(() => createRegistry([tiny]).source('zendesk')).toThrow(/unknown source connector "zendesk"/);
    try {
      createRegistry([tiny]).source('zendesk');
    } catch (error) {
      expect((error as PluginError).fix).toMatch(/tiny/);
    }
  });

  it('loads a plugin package exporting a connector', async () => {
    const registry = createRegistry();
    const url = pluginFile(
      `export const source = { type: 'source', name: 'acme', contractVersion: ${CONTRACT_VERSION}, spec: null, check: async () => ({ ok: true }), streams: () => [] };`,
    );
    expect(await registry.loadPlugin(url)).toEqual(['acme']);
    expect(registry.has('acme', 'source')).toBe(true);
  });

  it('says when the plugin package is not installed', async () => {
    const loading = createRegistry().loadPlugin('@acme/segflow-not-installed');
    await expect(loading).rejects.toThrow(/"@acme\/segflow-not-installed" is not installed/);
    await expect(loading).rejects.toMatchObject({
      code: 'plugin',
      fix: 'run `npm install @acme/segflow-not-installed`',
    });
  });

  it('says when the package exports no connector', async () => {
    const url = pluginFile('export const helper = 42;');
    await expect(createRegistry().loadPlugin(url)).rejects.toThrow(/exports no connector/);
  });

  it('refuses a plugin written for another contract version', async () => {
    const url = pluginFile(
      `export default { type: 'destination', name: 'old', contractVersion: ${CONTRACT_VERSION + 1}, spec: null };`,
    );
    await expect(createRegistry().loadPlugin(url)).rejects.toThrow(
      new RegExp(`contract v${CONTRACT_VERSION + 1}; this segflow speaks v${CONTRACT_VERSION}`),
    );
  });
});
