/**
 * The JSON Schema that `segflow schema` prints, as an editor uses it: the committed copy the examples point at is
 * current, every example config and segments file is valid against it, and the mistakes the loader refuses are
 * flagged (unknown keys, a connector config of the wrong shape).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CONNECTORS } from '../../cli/builtins.js';
import { configJsonSchema } from '../../config/json-schema.js';

const configDir = fileURLToPath(new URL('../../config/', import.meta.url));
const schema = configJsonSchema(BUILTIN_CONNECTORS);
const validate = new Ajv({ allErrors: true }).compile(schema);
const yamlFiles = ['examples', 'segments'].flatMap((folder) =>
  readdirSync(configDir + folder)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `${folder}/${f}`),
);

describe('the config JSON Schema', () => {
  it('the committed config/segflow.schema.json is what segflow schema prints now', () => {
    const committed: unknown = JSON.parse(readFileSync(configDir + 'segflow.schema.json', 'utf8'));
    expect(committed, 'run `segflow schema > config/segflow.schema.json`').toEqual(schema);
  });

  it.each(yamlFiles)('%s names the schema on its first line and is valid against it', (file) => {
    const text = readFileSync(configDir + file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../segflow.schema.json');
    const valid = validate(parse(text));
    expect(validate.errors ?? [], file).toEqual([]);
    expect(valid).toBe(true);
  });

  it('flags an unknown key and a connector config of the wrong shape', () => {
    const valid = validate({
      sourcs: {},
      sources: { crm: { connector: 'hubspot', config: { accessToken: 42 } } },
    });
    expect(valid).toBe(false);
    const errors = (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message}`);
    expect(errors).toContain(' should NOT have additional properties');
    expect(errors).toContain(".sources['crm'].config.accessToken should be string");
  });
});
