/**
 * Validation of the file's sections against the schema, section by section and entry by entry, so that one bad job
 * does not hide a bad source: every valid entry is kept for the cross-reference checks.
 */
import type { z } from 'zod';
import { isObject, kindOf, type Issues } from './issues.js';
import {
  destinationSchema,
  featureSchema,
  jobSchema,
  modelSchema,
  name as nameSchema,
  rootSchema,
  sourceSchema,
} from './schema.js';
import type { YamlFile } from './yaml-file.js';

/** Every section but `segments`, validated with defaults: an invalid entry is left out, an invalid section defaulted. */
export type Root = z.output<typeof rootSchema>;

const ENTRY_SCHEMAS: Record<string, z.ZodType> = {
  sources: sourceSchema,
  destinations: destinationSchema,
  features: featureSchema,
  models: modelSchema,
  jobs: jobSchema,
};

/**
 * Validates section by section and entry by entry, so that one bad job does not hide a bad source: every valid
 * entry is kept for the cross-reference checks.
 */
export function parseRoot(raw: Record<string, unknown>, file: YamlFile, issues: Issues): Root {
  const shape = rootSchema.shape as Record<string, z.ZodType>;
  for (const key of Object.keys(raw)) if (!(key in shape)) issues.unknownKey(file, [key], Object.keys(shape));
  const out: Record<string, unknown> = {};
  for (const [section, schema] of Object.entries(shape)) {
    const value = raw[section];
    const entrySchema = ENTRY_SCHEMAS[section];
    if (!entrySchema || value === undefined || value === null) {
      const parsed = schema.safeParse(value ?? undefined);
      if (parsed.success) out[section] = parsed.data;
      else {
        issues.addZod(file, [section], parsed.error.issues, value);
        out[section] = schema.safeParse(undefined).data;
      }
      continue;
    }
    const entries: Record<string, unknown> = {};
    out[section] = entries;
    if (!isObject(value)) {
      issues.add(file, [section], `expected a mapping of ${section} by name, got ${kindOf(value)}`);
      continue;
    }
    for (const [entryName, entry] of Object.entries(value)) {
      const named = nameSchema.safeParse(entryName);
      if (!named.success)
        issues.add(
          file,
          [section, entryName],
          `${JSON.stringify(entryName)}: ${named.error.issues[0]?.message ?? 'bad name'}`,
          { key: true },
        );
      const parsed = entrySchema.safeParse(entry);
      if (parsed.success) entries[entryName] = parsed.data;
      else issues.addZod(file, [section, entryName], parsed.error.issues, entry);
    }
  }
  return out as Root;
}
