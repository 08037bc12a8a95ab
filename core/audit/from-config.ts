/**
 * The audit's options from a loaded config, for `segflow audit` and GET /audit alike: its segments and the traits
 * their rules use, the streams its sources read (and which jobs read them), the pushes its jobs make, currencies,
 * identity settings and protected attributes. The config and the registry are described by the parts read here, so
 * core/ does not depend on config/ (whose `Config` fits) nor on the plugin registry (whose `Registry` fits).
 *
 * @example
 * const report = buildAudit(store, auditOptions(config, registry, { now: new Date(), minSegmentSize: 50 }));
 */
import type { PushMode } from '../planner/plan.js';
import { fieldsUsedBy, type AuditOptions, type AuditPush } from './options.js';

/** A job step, as far as the audit reads it. */
export type AuditedStep =
  | { read: { sources: readonly string[]; streams?: readonly string[] | undefined } }
  | {
      push: {
        destination: string;
        segments: readonly string[];
        mode: PushMode;
        require_consent?: 'email' | undefined;
        max_retries?: number | undefined;
      };
    }
  | { compute: unknown };

/** The parts of a loaded config the audit reads. */
export interface AuditedConfig {
  sources: Readonly<Record<string, { connector: string; config: unknown; streams?: readonly string[] | undefined }>>;
  destinations: Readonly<Record<string, { identities_from?: string | undefined }>>;
  jobs: Readonly<Record<string, { steps: readonly AuditedStep[] }>>;
  segments: readonly { key: string; name: string; rule: unknown }[];
  protected_attributes: readonly string[];
  audit: { min_segment_size: number };
  currency: NonNullable<AuditOptions['currency']>;
  identity: { role_addresses?: readonly string[] | undefined; max_contacts_per_identifier?: number | undefined };
}

/** Where the streams a source declares are found (the plugin registry). */
export interface StreamDeclarations {
  source(connector: string): { streams(config: never): readonly { name: string }[] };
}

export function auditOptions(
  config: AuditedConfig,
  registry: StreamDeclarations,
  extra: Partial<AuditOptions> = {},
): AuditOptions {
  const streams: NonNullable<AuditOptions['streams']>[number][] = [];
  for (const [name, source] of Object.entries(config.sources)) {
    let declared: readonly string[];
    try {
      declared =
        source.streams ??
        registry
          .source(source.connector)
          .streams(source.config as never)
          .map((s) => s.name);
    } catch {
      declared = source.streams ?? [];
    }
    for (const stream of declared) {
      const jobs = Object.entries(config.jobs)
        .filter(([, job]) =>
          job.steps.some(
            (step) =>
              'read' in step && step.read.sources.includes(name) && (step.read.streams ?? declared).includes(stream),
          ),
        )
        .map(([job]) => job);
      streams.push({ connection: name, stream, jobs });
    }
  }
  const destinations = Object.entries(config.destinations).map(([name, connection]) => {
    const identitiesFrom = connection.identities_from;
    const pushes: AuditPush[] = [];
    for (const job of Object.values(config.jobs)) {
      for (const step of job.steps) {
        if (!('push' in step) || step.push.destination !== name) continue;
        pushes.push({
          segments: step.push.segments,
          mode: step.push.mode,
          ...(identitiesFrom === undefined ? {} : { identitiesFrom }),
          ...(step.push.require_consent === undefined ? {} : { requireConsent: step.push.require_consent }),
          ...(step.push.max_retries === undefined ? {} : { maxRetries: step.push.max_retries }),
        });
      }
    }
    return { name, pushes };
  });
  return {
    protectedAttributes: config.protected_attributes,
    minSegmentSize: config.audit.min_segment_size,
    segments: config.segments.map((s) => ({ key: s.key, name: s.name })),
    fieldsUsed: fieldsUsedBy(config.segments),
    streams,
    destinations,
    currency: config.currency,
    identity: {
      ...(config.identity.role_addresses ? { roleAddresses: config.identity.role_addresses } : {}),
      ...(config.identity.max_contacts_per_identifier
        ? { sharedEmailLimit: config.identity.max_contacts_per_identifier }
        : {}),
    },
    ...extra,
  };
}
