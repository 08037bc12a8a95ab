import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { folderImports } from './eslint/folder-imports.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.segflow/', 'artifacts/', 'server/console/vendor/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // ARCHITECTURE.md's import table: which folder may import which
    files: ['**/*.ts'],
    plugins: { segflow: { rules: { 'folder-imports': folderImports } } },
    rules: { 'segflow/folder-imports': 'error' },
  },
  {
    // The store is async: a forgotten `await` on a store call (or on anything built on one) fails lint here.
    files: ['core/**/*.ts', 'sync/**/*.ts', 'server/**/*.ts', 'cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['bin/**/*.js', 'server/console/**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        document: 'readonly',
        window: 'readonly',
        fetch: 'readonly',
      },
    },
  },
);
