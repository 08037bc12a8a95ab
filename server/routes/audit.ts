/**
 * GET /audit: the data audit and fairness report (core/audit's `buildAudit`, run in a worker thread) as JSON, the same
 * report `segflow audit --json` prints. Query: `min_size` (a segment with fewer members is reported; default the
 * config's `audit.min_segment_size`, 100 unless set).
 * `auditOptions` turns a loaded config into the audit's options, for this route and the CLI alike.
 */
import { Hono } from 'hono';
import type { Config } from '../../config/index.js';
import { buildAuditInWorker, fieldsUsedBy, type AuditOptions, type AuditPush } from '../../core/index.js';
import type { Registry } from '../../plugins/index.js';
import type { ServerDeps } from '../deps.js';
import { ApiError } from './errors.js';

export { DEFAULT_MIN_SEGMENT_SIZE } from '../../config/index.js';

/**
 * The audit's options from a loaded config: its segments and the traits their rules use, the streams its sources
 * read (and which jobs read them), the pushes its jobs make, currencies, identity settings and protected attributes.
 *
 * @example
 * const report = buildAudit(store, auditOptions(config, registry, { now: new Date(), minSegmentSize: 50 }));
 */
export function auditOptions(config: Config, registry: Registry, extra: Partial<AuditOptions> = {}): AuditOptions {
  const streams: NonNullable<AuditOptions['streams']>[number][] = [];
  for (const [name, source] of Object.entries(config.sources)) {
    let declared: string[];
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

export function auditRoutes(deps: ServerDeps): Hono {
  const app = new Hono();
  app.get('/audit', async (c) => {
    const minSize = c.req.query('min_size');
    const minSegmentSize = minSize === undefined ? deps.config.audit.min_segment_size : Number(minSize);
    if (!Number.isInteger(minSegmentSize) || minSegmentSize < 0) {
      throw new ApiError(400, 'invalid_query', `min_size expects a whole number, got ${JSON.stringify(minSize)}`, {
        field: 'min_size',
      });
    }
    const now = deps.now?.() ?? new Date();
    // In a worker with its own connection: the report reads the whole store, and the API must keep answering meanwhile.
    return c.json(
      await buildAuditInWorker(
        deps.config.store.path,
        auditOptions(deps.config, deps.registry, { now, minSegmentSize }),
      ),
    );
  });
  return app;
}
