import type { Rule } from 'eslint';

/** The ESLint rule enforcing ARCHITECTURE.md's import table (see folder-imports.js). */
export declare const folderImports: Rule.RuleModule;

/** What is wrong with the file `from` importing `to` (paths from the repository root), or undefined. */
export declare function violation(from: string, to: string): string | undefined;
