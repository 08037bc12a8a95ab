/**
 * Keeps the last audit report fresh in the background, so the console's audit page reads it from the store at once
 * instead of building it on the first visit (a whole-store read: seconds at tens of thousands of contacts). `segflow
 * serve` builds one after it starts and another after every job run; a build asked for while one runs is done once
 * more when that one ends. The report is built with the options GET /audit uses by default (the config's
 * `audit.min_segment_size`), in a worker thread with its own connection.
 *
 * @example
 * const audit = new AuditRefresher(deps);
 * audit.refresh(); // not awaited: the build runs in the background
 * await audit.idle(); // before closing the store
 */
import { auditOptions, auditOptionsKey, buildAuditInWorker, saveAuditReport } from '../core/index.js';
import type { ServerDeps } from './deps.js';

export class AuditRefresher {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: Pick<ServerDeps, 'config' | 'store' | 'registry' | 'logger' | 'now'>) {}

  /** Starts a build (or, when one runs, asks for one more after it); failures are logged, never thrown. */
  refresh(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.build().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
  }

  /** Resolves once no build runs and none is waiting. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async build(): Promise<void> {
    const { config, store, registry, logger } = this.deps;
    try {
      const options = auditOptions(config, registry, {
        now: this.deps.now?.() ?? new Date(),
        minSegmentSize: config.audit.min_segment_size,
      });
      const started = Date.now();
      const report = await buildAuditInWorker(config.store.path, options);
      await saveAuditReport(store, auditOptionsKey(options), {
        report,
        builtAt: new Date().toISOString(),
        tookMs: Date.now() - started,
      });
      logger.info('audit report built in the background', { tookMs: Date.now() - started });
    } catch (error) {
      logger.warn('could not build the audit report in the background', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
