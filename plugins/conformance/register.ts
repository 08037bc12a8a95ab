/**
 * The thin vitest layer: one `it` per check, skips reported with their reason.
 */
import { afterAll, describe, it } from 'vitest';
import { ConformanceSkip } from './shared.js';

export interface CheckSuite<Name extends string> {
  titles: Record<Name, string>;
  checks: Record<Name, () => Promise<void>> & { dispose(): Promise<void> };
  /** Checks that cannot apply to this connector, with why; reported as `it.skip` with the reason in the title. */
  skipped: Partial<Record<Name, string>>;
}

export function registerSuite<Name extends string>(title: string, suite: () => CheckSuite<Name>): void {
  describe(title, () => {
    const { titles, checks, skipped } = suite();
    afterAll(() => checks.dispose());
    for (const name of Object.keys(titles) as Name[]) {
      const reason = skipped[name];
      if (reason !== undefined) {
        it.skip(`${titles[name]} — skipped: ${reason}`, () => {});
        continue;
      }
      it(titles[name], async (context) => {
        try {
          await checks[name]();
        } catch (error) {
          if (error instanceof ConformanceSkip) context.skip(error.reason);
          throw error;
        }
      });
    }
  });
}
