// The import table of ARCHITECTURE.md is enforced by `npm test` (eslint.config.js's segflow/folder-imports rule):
// an import that crosses a layer the wrong way is an error, and the tree as it is has none.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { folderImports } from '../../eslint/folder-imports.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RULE = 'segflow/folder-imports';

/**
 * The project's own lint config, as `npm test` runs it, less its type-aware rules: a planted file does not exist, so
 * the TypeScript project service cannot type it.
 */
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/await-thenable': 'off',
    },
  },
});

/** The messages of the import rule for `code` as if it were the file at `path` (which need not exist). */
async function importProblems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe('the import table', () => {
  it.each([
    [
      'a connector importing core/',
      'connectors/hubspot/planted.ts',
      "import { openStore } from '../../core/index.js';",
    ],
    ['a connector importing sync/', 'connectors/mailchimp/planted.ts', "export * from '../../sync/index.js';"],
    ['a connector importing another', 'connectors/hubspot/planted.ts', "import '../salesforce/index.js';"],
    ['core/ importing sync/', 'core/features/planted.ts', "import { runJob } from '../../sync/index.js';"],
    [
      'core/ importing the plugin API',
      'core/planner/planted.ts',
      "import type { Logger } from '../../plugins/index.js';",
    ],
    ['config/ importing core/store', 'config/planted.ts', "import { openStore } from '../core/store/index.js';"],
    ['plugins/ importing core/', 'plugins/registry/planted.ts', "const core = await import('../../core/index.js');"],
    ['sync/ importing server/', 'sync/read/planted.ts', "import { createServer } from '../../server/index.js';"],
    [
      'sync/ outside jobs importing config/',
      'sync/push/planted.ts',
      "import type { Config } from '../../config/index.js';",
    ],
    ['server/ importing cli/', 'server/routes/planted.ts', "import { builtinRegistry } from '../../cli/builtins.js';"],
    ['server/ bypassing a core barrel', 'server/planted.ts', "import { runTotals } from '../core/runs/queries.js';"],
    [
      'cli/ bypassing a server barrel',
      'cli/commands/planted.ts',
      "import { auditRoutes } from '../../server/routes/audit.js';",
    ],
  ])('%s is an error', async (_what, path, code) => {
    const problems = await importProblems(path, code);
    expect(problems).toHaveLength(1);
  });

  it.each([
    [
      'a connector importing the plugin API',
      'connectors/hubspot/planted.ts',
      "import { defineSource } from '../../plugins/index.js';",
    ],
    ['a connector importing its own folder', 'connectors/hubspot/planted.ts', "import { source } from './source.js';"],
    [
      'core/ importing the canonical model',
      'core/identity/planted.ts',
      "import { normaliseEmail } from '../../plugins/model/index.js';",
    ],
    ['core/ across its own subfolders', 'core/planner/planted.ts', "import type { Store } from '../store/store.js';"],
    [
      'config/ importing the rule grammar',
      'config/planted.ts',
      "import { OPERATORS } from '../core/segments/grammar.js';",
    ],
    [
      'sync/jobs importing the loaded config',
      'sync/jobs/planted.ts',
      "import { configSecrets } from '../../config/index.js';",
    ],
    [
      'server/ importing sync/, core/ and config/',
      'server/planted.ts',
      "import '../sync/index.js';\nimport '../core/index.js';\nimport '../config/index.js';",
    ],
    ['cli/ importing the server', 'cli/commands/planted.ts', "import { startServing } from '../../server/index.js';"],
    ['a test importing anything', 'test/jobs/planted.ts', "import { runTotals } from '../../core/runs/queries.js';"],
  ])('%s is allowed', async (_what, path, code) => {
    expect(await importProblems(path, code)).toEqual([]);
  });

  it('names the rule it breaks', async () => {
    const [problem] = await importProblems('core/features/planted.ts', "import '../../sync/index.js';");
    expect(problem).toContain('core/ may import libraries and the leaf modules of plugins/model only');
    expect(problem).toContain('core/features/planted.ts imports sync/index.js');
  });

  it('the tree as it is breaks none of it', { timeout: 120_000 }, async () => {
    // only the import rule, so that the whole tree is parsed once and quickly (`eslint .` runs every rule)
    const imports = new ESLint({
      cwd: ROOT,
      overrideConfigFile: true,
      overrideConfig: [
        { ignores: ['node_modules/', '.segflow/', 'artifacts/', 'server/console/vendor/', 'coverage/'] },
        {
          files: ['**/*.ts'],
          linterOptions: { reportUnusedDisableDirectives: 'off' },
          languageOptions: { parser: tseslint.parser },
          plugins: { segflow: { rules: { 'folder-imports': folderImports } } },
          rules: { [RULE]: 'error' },
        },
      ],
    });
    const results = await imports.lintFiles(['.']);
    const problems = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === RULE || m.fatal).map((m) => `${r.filePath}:${m.line}: ${m.message}`),
    );
    expect(problems).toEqual([]);
    expect(results.length).toBeGreaterThan(300);
  });
});
