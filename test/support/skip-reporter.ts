/**
 * Lists every skipped test with its reason after the summary (vitest's default reporter only counts them), and fails
 * the run on a skip that gives none: say why in the title (`— skipped: why`) or with `context.skip(why)`.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

export default class SkipReasons implements Reporter {
  private filtered = false;
  private root = process.cwd();

  onInit(vitest: Vitest): void {
    // Tests left out by -t are "skipped" too; they are not the skips this reporter is about.
    this.filtered = vitest.config.testNamePattern !== undefined;
    this.root = vitest.config.root;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    let silent = 0;
    for (const module of modules) {
      for (const test of module.children.allTests('skipped')) {
        if (test.options.mode === 'todo') continue;
        const result = test.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        if (test.options.mode === 'skip' && this.filtered && !note) continue;
        const reason = note ?? (/ — skipped: /.test(test.name) ? '' : undefined);
        if (reason === undefined) silent++;
        lines.push(
          `  ${relative(this.root, module.moduleId)} > ${test.fullName}${reason ? ` — skipped: ${reason}` : reason === undefined ? ' — NO REASON GIVEN' : ''}`,
        );
      }
    }
    if (lines.length === 0) return;
    console.log(`\nSkipped, and why:\n${lines.join('\n')}\n`);
    if (silent > 0) {
      console.error(`${silent} test(s) skipped without a reason: give one in the title or with context.skip(reason).`);
      process.exitCode = 1;
    }
  }
}
