/** GET /connections (sources and destinations, their connector and last check) and POST /connections/:name/check. */
import { Hono } from 'hono';
import { secretKeys, type ConnectorDefinition } from '../../plugins/index.js';
import { noteActivity } from '../activity.js';
import { ApiError } from './errors.js';
import type { Shared } from './shared.js';

const SECRET_NAME = /(token|secret|password|passwd|api[_-]?key|authorization|assertion|private[_-]?key|credential)/i;

interface Connection {
  kind: 'source' | 'destination';
  name: string;
  connector: string;
  plugin?: string;
  config: Record<string, unknown>;
}

export function connectionRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  const all = (): Connection[] => [
    ...Object.values(deps.config.sources).map((s) => ({ kind: 'source' as const, ...s })),
    ...Object.values(deps.config.destinations).map((d) => ({ kind: 'destination' as const, ...d })),
  ];
  const definitionOf = (c: Connection): ConnectorDefinition =>
    c.kind === 'source' ? deps.registry.source(c.connector) : deps.registry.destination(c.connector);

  /** The config minus every value marked secret or named like one; the names of the left-out keys are listed. */
  const shown = (c: Connection) => {
    const hidden = new Set(secretKeys(definitionOf(c).spec));
    const config: Record<string, unknown> = {};
    const secrets: string[] = [];
    for (const [key, value] of Object.entries(c.config)) {
      const text = JSON.stringify(value) ?? '';
      if (hidden.has(key) || SECRET_NAME.test(key) || shared.scrub(text) !== text) secrets.push(key);
      else config[key] = value;
    }
    return { config, secrets: secrets.sort() };
  };

  app.get('/connections', (c) =>
    c.json({
      connections: all().map((conn) => ({
        name: conn.name,
        kind: conn.kind,
        connector: conn.connector,
        ...(conn.plugin ? { plugin: conn.plugin } : {}),
        ...shown(conn),
        ...(conn.kind === 'destination'
          ? { canErase: typeof deps.registry.destination(conn.connector).erase === 'function' }
          : {}),
        lastCheck: shared.checks.get(`${conn.kind}:${conn.name}`) ?? null,
      })),
    }),
  );

  app.post('/connections/:name/check', async (c) => {
    const name = c.req.param('name');
    const matching = all().filter((conn) => conn.name === name);
    if (matching.length === 0) throw new ApiError(404, 'not_found', `no connection "${name.slice(0, 80)}"`);
    const results = [];
    for (const conn of matching) {
      const definition = definitionOf(conn);
      const ctx = shared.contextFor(conn.kind, conn.name, definition);
      let outcome;
      try {
        const result = await definition.check(conn.config, ctx);
        outcome = result.ok ? { ok: true } : { ok: false, reason: shared.scrub(result.reason) };
      } catch (error) {
        outcome = { ok: false, reason: shared.scrub(error instanceof Error ? error.message : String(error)) };
      }
      const checked = { ...outcome, checkedAt: shared.now().toISOString() };
      shared.checks.set(`${conn.kind}:${conn.name}`, checked);
      shared.logger.info('connection checked', { connection: conn.name, kind: conn.kind, ok: checked.ok });
      results.push({ kind: conn.kind, connector: conn.connector, ...checked });
    }
    noteActivity(c, { ok: results.every((r) => r.ok) });
    return c.json({ name, ok: results.every((r) => r.ok), results });
  });
  return app;
}
