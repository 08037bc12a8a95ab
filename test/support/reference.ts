/**
 * Reference numbers from scikit-learn, scipy and Python's csv module, committed as JSON under
 * test/fixtures/reference/expected/ by test/fixtures/reference/regenerate.py. Tests never run Python: .ci/run re-runs
 * the script and fails if its output differs from the committed files (compare.py; where an optimizer stopped, beyond
 * the tests' own tolerance).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const ROOT = new URL('../fixtures/reference/', import.meta.url);
export const REGENERATE = '/usr/bin/python3 test/fixtures/reference/regenerate.py';

/** The committed output `name` of regenerate.py. */
export function reference<T>(name: string): T {
  const file = new URL(`expected/${name}.json`, ROOT);
  if (!existsSync(file)) {
    // While inputs are being written the outputs may not exist yet; the tests fail, the inputs are written.
    if (process.env.SEGFLOW_WRITE_REFERENCE_INPUTS === '1') return {} as T;
    throw new Error(`reference "${name}" is missing: run ${REGENERATE} and commit the output`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * Inputs a test computes itself and regenerate.py reads (inputs/<name>.json): the test fails when they no longer
 * equal the committed copy. `SEGFLOW_WRITE_REFERENCE_INPUTS=1` writes them instead; then run regenerate.py.
 */
export function referenceInputs(name: string, inputs: unknown): void {
  const file = new URL(`inputs/${name}.json`, ROOT);
  const text = `${JSON.stringify(inputs, (_key, value: unknown) => (ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : value))}\n`;
  if (process.env.SEGFLOW_WRITE_REFERENCE_INPUTS === '1') {
    writeFileSync(file, text);
    return;
  }
  const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (committed !== text)
    throw new Error(
      `the inputs of reference "${name}" differ from test/fixtures/reference/inputs/${name}.json: if the change is ` +
        `intended, run SEGFLOW_WRITE_REFERENCE_INPUTS=1 npx vitest run <this test file>, then ${REGENERATE}, and commit both`,
    );
}
