/**
 * Environment interpolation: `${VAR}` and `${VAR:-default}` in every value of a YAML file, `$${...}` for a literal
 * `${...}`. Values taken from the environment are hidden from every message and remembered for scrubbing.
 *
 * @example
 * const read = await readYamlFile('segflow.yaml');
 * const problems = [...read.problems, ...(read.usable ? interpolate(read.file, process.env) : [])];
 */
import { isPair, isScalar, isSeq, Scalar, visit } from 'yaml';
import type { Path, SyntaxProblem, YamlFile } from './yaml-file.js';

const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every value scalar of the file in place; `$${...}` stays a literal
 * `${...}`. Returns the references that could not be resolved, at their offsets.
 */
export function interpolate(file: YamlFile, env: Record<string, string | undefined>): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  visit(file.doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const path = keyPath(ancestors, node);
      const source = node.range ? file.text.slice(node.range[0], node.range[1]) : '';
      const start = node.range?.[0] ?? 0;
      const at = (token: string) => {
        const i = source.indexOf(token);
        return start + (i >= 0 ? i : 0);
      };
      const raw = node.value;
      let out = '';
      let fromEnv = false;
      let failed = false;
      for (let i = 0; i < raw.length;) {
        if (raw.startsWith('$${', i)) {
          out += '${';
          i += 3;
          continue;
        }
        if (!raw.startsWith('${', i)) {
          out += raw[i];
          i++;
          continue;
        }
        const close = raw.indexOf('}', i + 2);
        const inner = close < 0 ? raw.slice(i + 2) : raw.slice(i + 2, close);
        const match = close < 0 ? null : VARIABLE.exec(inner);
        if (!match) {
          problems.push({
            offset: at(`\${${inner}`),
            path,
            message: `"\${${inner.slice(0, 40)}${close < 0 ? '' : '}'}" is not a variable reference (expected \${NAME} or \${NAME:-default}; write $\${ for a literal \${)`,
          });
          failed = true;
          break;
        }
        const [, name = '', fallback] = match;
        const value = env[name];
        if (value !== undefined && (value !== '' || fallback === undefined)) {
          out += value;
          fromEnv = true;
          if (value.length > 0) file.envValues.push(value);
        } else if (fallback !== undefined) {
          out += fallback;
        } else {
          problems.push({
            offset: at(`\${${name}`),
            path,
            message: `environment variable ${name} is not set (expected it set, or a default: \${${name}:-value})`,
          });
          failed = true;
        }
        i = close + 1;
      }
      if (failed) return;
      node.value = node.type === Scalar.PLAIN && out !== raw ? resolvePlain(out) : out;
      if (fromEnv) {
        file.hidden.add(node);
        file.fromEnv.push({ path, value: node.value });
      }
    },
  });
  return problems;
}

function keyPath(ancestors: readonly unknown[], node: unknown): Path {
  const path: Path = [];
  const chain = [...ancestors, node];
  chain.forEach((step, i) => {
    if (isPair(step) && isScalar(step.key)) path.push(String(step.key.value));
    else if (isSeq(step)) path.push(step.items.indexOf(chain[i + 1] as never));
  });
  return path;
}

/** An unquoted scalar keeps its YAML type after interpolation: `port: ${PORT:-8080}` is a number. */
function resolvePlain(text: string): unknown {
  if (/^[-+]?\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)?$/.test(text)) return null;
  return text;
}
