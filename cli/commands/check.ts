/**
 * `segflow check <config.yaml> [connection]`: runs each connection's `check` (or one connection's) through the same
 * context a sync uses (its rate budget, retries and error classification), with its secrets redacted.
 */
import { configSecrets, durationMs, type Config } from '../../config/index.js';
import { reasonOf, type ConnectorDefinition, type Registry } from '../../plugins/index.js';
import { connectionContext } from '../../sync/index.js';
import { builtinRegistry } from '../builtins.js';
import { loadCommandConfig } from '../config-store.js';
import { commandLogger } from '../log.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow check <config.yaml> [connection] [--timeout 30s] [--json]

Proves each connection in the config works: the connector checks its credentials, permissions or files, exactly
as a sync would reach them. Name a connection to check only that one (a source and a destination of that name are
both checked). Secrets never appear in the output.

options:
  --timeout <duration>  give up on a connection after this long (default 30s)
  --json                print a JSON array instead: one { kind, name, connector, status, reason? } per connection,
                        status being ok, warning or failed

exit codes:
  0  every connection checked is ok
  1  at least one connection failed its check (the reason is printed)
  2  the config is invalid, the connection is unknown, or the command was used wrongly
`;

interface Target {
  kind: 'source' | 'destination';
  name: string;
  connector: ConnectorDefinition;
  config: Record<string, unknown>;
}

export const command: Command = {
  summary: 'try each connection (or one) and say why it fails',
  usage: 'check <config.yaml> [connection] [--json]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    const json = argv.includes('--json');
    const args = argv.filter((a) => a !== '--json');
    let timeoutMs = 30_000;
    const t = args.indexOf('--timeout');
    if (t >= 0) {
      const value = args.splice(t, 2)[1];
      try {
        timeoutMs = durationMs(value ?? '');
      } catch {
        return usageError(`--timeout expects a duration like 30s, got ${JSON.stringify(value ?? '')}`);
      }
    }
    const [file, only, ...extra] = args;
    if (!file || file.startsWith('-')) return usageError('name the config file');
    if (extra.length > 0 || only?.startsWith('-')) return usageError(`unexpected argument "${extra[0] ?? only}"`);

    const registry = builtinRegistry();
    const config = await loadCommandConfig(file, registry);
    if (!config) return EXIT.usage;
    const targets = targetsOf(config, registry).filter((target) => only === undefined || target.name === only);
    if (targets.length === 0) {
      const names = [...new Set([...Object.keys(config.sources), ...Object.keys(config.destinations)])];
      process.stderr.write(
        only === undefined
          ? `${file} defines no connections\n`
          : `segflow check: no connection "${only}" in ${file} (it has: ${names.join(', ') || 'none'})\n`,
      );
      return only === undefined ? EXIT.ok : EXIT.usage;
    }
    const secrets = configSecrets(config)
      .filter((s) => s.length > 0)
      .sort((a, b) => b.length - a.length);
    const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
    const results = await Promise.all(targets.map((target) => checkOne(config, target, secrets, timeoutMs)));
    const width = Math.max(...targets.map((target) => `${target.kind} ${target.name}`.length));
    let failed = 0;
    if (json) {
      const report = targets.map((target, i) => {
        const result = results[i];
        const about = { kind: target.kind, name: target.name, connector: target.connector.name };
        if (result === undefined) return { ...about, status: 'ok' };
        if (typeof result === 'object') return { ...about, status: 'warning', reason: scrub(result.warning) };
        failed++;
        return { ...about, status: 'failed', reason: scrub(result) };
      });
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return failed > 0 ? EXIT.failed : EXIT.ok;
    }
    targets.forEach((target, i) => {
      const result = results[i];
      const label = `${target.kind} ${target.name}`.padEnd(width);
      if (result === undefined) {
        process.stdout.write(`ok      ${label}  (${target.connector.name})\n`);
      } else if (typeof result === 'object') {
        process.stdout.write(`warning ${label}  (${target.connector.name}): ${scrub(result.warning)}\n`);
      } else {
        failed++;
        process.stdout.write(`failed  ${label}  (${target.connector.name}): ${scrub(result)}\n`);
      }
    });
    return failed > 0 ? EXIT.failed : EXIT.ok;
  },
};

function usageError(message: string): number {
  process.stderr.write(`segflow check: ${message}\n\n${HELP}`);
  return EXIT.usage;
}

function targetsOf(config: Config, registry: Registry): Target[] {
  return [
    ...Object.values(config.sources).map((s) => ({
      kind: 'source' as const,
      name: s.name,
      connector: registry.source(s.connector),
      config: s.config,
    })),
    ...Object.values(config.destinations).map((d) => ({
      kind: 'destination' as const,
      name: d.name,
      connector: registry.destination(d.connector),
      config: d.config,
    })),
  ];
}

/** Undefined when the check passed, the reason when it failed, or what it could not prove. */
async function checkOne(
  config: Config,
  target: Target,
  secrets: string[],
  timeoutMs: number,
): Promise<string | { warning: string } | undefined> {
  const { connector } = target;
  const signal = AbortSignal.timeout(timeoutMs);
  const ctx = connectionContext(config, {
    kind: target.kind,
    name: target.name,
    connector,
    // a check should answer quickly: one retry, and no long waits behind a rate limit
    retry: { maxAttempts: 2, maxRateLimitWaitMs: Math.min(timeoutMs, 30_000) },
    secrets,
    signal,
    logger: commandLogger('warn', secrets),
  });
  const timedOut = new Promise<string>((resolve) => {
    signal.addEventListener('abort', () => resolve(`no answer within ${timeoutMs / 1000}s`), { once: true });
  });
  const checked = connector.check(target.config, ctx).then(
    (result) => (!result.ok ? result.reason : result.warning ? { warning: result.warning } : undefined),
    (error: unknown) => {
      if (signal.aborted) return `no answer within ${timeoutMs / 1000}s`;
      const message = reasonOf(error);
      const fix = (error as { fix?: unknown }).fix;
      return typeof fix === 'string' && fix ? `${message} (${fix})` : message;
    },
  );
  return Promise.race([checked, timedOut]);
}
