/**
 * Cross-references: every source, stream, segment, model and destination a job step names exists, and every
 * `in_segment` names a segment (or a model), each mistake with the closest known name.
 */
import { RULE_GROUPS } from '../core/segments/grammar.js';
import type { SourceDefinition } from '../plugins/contract/connector.js';
import type { SourceConnection } from './config.js';
import { streamNames } from './connections.js';
import { isObject, unknownName, type Issues } from './issues.js';
import type { LoadedSegment } from './segment-files.js';
import type { Path, YamlFile } from './yaml-file.js';

/** Checks the names each job step uses, on the raw steps, so a mistake elsewhere in a step hides none. */
export function checkJobs(
  rawRoot: Record<string, unknown>,
  declared: (section: string) => string[],
  file: YamlFile,
  segments: LoadedSegment[],
  declaredSegmentKeys: string[],
  sourceDefs: Map<string, SourceDefinition>,
  sources: Record<string, SourceConnection>,
  issues: Issues,
): void {
  const segmentKeys = [...new Set([...segments.map((s) => s.segment.key), ...declaredSegmentKeys])];
  const models = declared('models');
  const sourceNames = declared('sources');
  const destinationNames = declared('destinations');
  const rawJobs = (isObject(rawRoot.jobs) ? rawRoot.jobs : {}) as Record<string, unknown>;
  const strings = (value: unknown): [string, number][] =>
    Array.isArray(value) ? value.flatMap((v, j): [string, number][] => (typeof v === 'string' ? [[v, j]] : [])) : [];
  // checked on the raw steps, so a mistake elsewhere in a step does not hide an unknown name
  for (const [jobName, job] of Object.entries(rawJobs)) {
    const steps = isObject(job) && Array.isArray(job.steps) ? (job.steps as unknown[]) : [];
    steps.forEach((step, i) => {
      if (!isObject(step)) return;
      const at: Path = ['jobs', jobName, 'steps', i];
      if (isObject(step.read)) {
        const read = step.read;
        const known = new Set<string>();
        let allKnown = true;
        for (const [source, j] of strings(read.sources)) {
          if (!sourceNames.includes(source))
            issues.add(file, [...at, 'read', 'sources', j], unknownName('source', source, sourceNames));
          const definition = sourceDefs.get(source);
          const connection = Object.hasOwn(sources, source) ? sources[source] : undefined;
          const streams = definition && connection ? streamNames(definition, connection.config) : undefined;
          if (streams) streams.forEach((s) => known.add(s));
          else allKnown = false;
        }
        if (allKnown) {
          for (const [stream, j] of strings(read.streams)) {
            if (!known.has(stream))
              issues.add(file, [...at, 'read', 'streams', j], unknownName('stream', stream, [...known]));
          }
        }
      }
      if (isObject(step.compute)) {
        for (const [key, j] of strings(step.compute.segments)) {
          if (!segmentKeys.includes(key))
            issues.add(file, [...at, 'compute', 'segments', j], unknownName('segment', key, segmentKeys));
        }
        for (const [model, j] of strings(step.compute.models)) {
          if (!models.includes(model))
            issues.add(file, [...at, 'compute', 'models', j], unknownName('model', model, models));
        }
      }
      if (isObject(step.push)) {
        const push = step.push;
        if (typeof push.destination === 'string' && !destinationNames.includes(push.destination)) {
          issues.add(
            file,
            [...at, 'push', 'destination'],
            unknownName('destination', push.destination, destinationNames),
          );
        }
        for (const [key, j] of strings(push.segments)) {
          if (!segmentKeys.includes(key) && !models.includes(key)) {
            issues.add(
              file,
              [...at, 'push', 'segments', j],
              unknownName('segment', key, [...segmentKeys, ...models]).replace(
                '(expected one of',
                '(expected a segment key or a model name, one of',
              ),
            );
          }
        }
      }
    });
  }
}

/** Checks that every `in_segment` names a segment or a model. */
export function checkSegmentReferences(segments: LoadedSegment[], models: string[], issues: Issues): void {
  const keys = segments.map((s) => s.segment.key);
  for (const { segment, entry } of segments) {
    const walk = (condition: unknown, path: Path) => {
      if (!isObject(condition)) return;
      if (
        typeof condition.in_segment === 'string' &&
        !keys.includes(condition.in_segment) &&
        !models.includes(condition.in_segment)
      ) {
        issues.add(entry.file, [...path, 'in_segment'], unknownName('segment', condition.in_segment, keys));
      }
      for (const group of RULE_GROUPS) {
        const items = condition[group];
        if (Array.isArray(items)) items.forEach((item, i) => walk(item, [...path, group, i]));
      }
      if ('not' in condition) walk(condition.not, [...path, 'not']);
    };
    walk(segment.rule, [...entry.path, 'rule']);
  }
}

/** Every source `identity.trait_priority` names is a source connection or an ingestion write key. */
export function checkTraitPriority(
  rawRoot: Record<string, unknown>,
  sourceNames: string[],
  writeKeyNames: string[],
  file: YamlFile,
  issues: Issues,
): void {
  const identity = isObject(rawRoot.identity) ? rawRoot.identity : {};
  const priority = isObject(identity.trait_priority) ? identity.trait_priority : {};
  const known = [...new Set([...sourceNames, ...writeKeyNames])];
  for (const [trait, list] of Object.entries(priority)) {
    if (!Array.isArray(list)) continue;
    list.forEach((source, i) => {
      if (typeof source === 'string' && !known.includes(source))
        issues.add(
          file,
          ['identity', 'trait_priority', trait, i],
          unknownName('source', source, known, '(a source connection or an ingestion write key)'),
        );
    });
  }
}

/** Every account segment a push step names is one of `account_segments:`. */
export function checkAccountSegmentPushes(
  rawRoot: Record<string, unknown>,
  file: YamlFile,
  accountSegmentKeys: string[],
  issues: Issues,
): void {
  const rawJobs = (isObject(rawRoot.jobs) ? rawRoot.jobs : {}) as Record<string, unknown>;
  for (const [jobName, job] of Object.entries(rawJobs)) {
    const steps = isObject(job) && Array.isArray(job.steps) ? (job.steps as unknown[]) : [];
    steps.forEach((step, i) => {
      if (!isObject(step) || !isObject(step.push) || !Array.isArray(step.push.account_segments)) return;
      step.push.account_segments.forEach((key: unknown, j) => {
        if (typeof key === 'string' && !accountSegmentKeys.includes(key))
          issues.add(
            file,
            ['jobs', jobName, 'steps', i, 'push', 'account_segments', j],
            unknownName('account segment', key, accountSegmentKeys),
          );
      });
    });
  }
}
