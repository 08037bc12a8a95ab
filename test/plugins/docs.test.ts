import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRY_POINTS = ['plugins/index.ts', 'plugins/conformance/index.ts', 'plugins/sandbox/index.ts'].map((p) =>
  fileURLToPath(new URL(`../../${p}`, import.meta.url)),
);

/** Every name the plugin API's entry points export, with the doc comments of its declarations. */
function exportedDocs(): { entry: string; name: string; doc: string }[] {
  const program = ts.createProgram(ENTRY_POINTS, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  return ENTRY_POINTS.flatMap((entry) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    return checker.getExportsOfModule(module).map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const doc = (target.declarations ?? [])
        .flatMap((d) => ts.getJSDocCommentsAndTags(d))
        .map((d) => d.getText())
        .join('\n');
      return { entry: entry.slice(entry.indexOf('plugins/')), name: symbol.name, doc };
    });
  });
}

describe('the plugin API documentation', () => {
  it('gives every export of plugins/ a doc comment with an example', () => {
    const exports = exportedDocs();
    expect(exports.length).toBeGreaterThan(100);
    const undocumented = exports.filter((e) => !e.doc.includes('@example')).map((e) => `${e.entry}: ${e.name}`);
    expect(undocumented).toEqual([]);
  });
});
