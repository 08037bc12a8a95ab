/**
 * Secrets of a loaded config: every field a connector spec marks secret and every value from the environment under a
 * secret-sounding key; they are cut out of every error message and never shown at run time.
 *
 * @example
 * const secrets = configSecrets(config); // pass to a connector context so its logs redact them
 */
import type { Config } from './config.js';
import type { YamlFile } from './yaml-file.js';

const secretsByConfig = new WeakMap<Config, string[]>();
const SECRET_NAME = /(token|secret|password|passwd|api[_-]?key|authorization|assertion|private[_-]?key|credential)/i;

/**
 * The values a loaded config holds that must never be shown at run time: every field a connector spec marks secret,
 * and every value from the environment under a secret-sounding key (token, password, api key, …).
 */
export function configSecrets(config: Config): string[] {
  return secretsByConfig.get(config) ?? [];
}

/** Remembers the secrets of a config just loaded: its connectors' secret fields and secret-named environment values. */
export function rememberSecrets(config: Config, secrets: string[], files: YamlFile[]): void {
  const envSecrets = files
    .flatMap((f) => f.fromEnv)
    .filter((e) => typeof e.value === 'string' && SECRET_NAME.test(String(e.path[e.path.length - 1])))
    .map((e) => e.value as string);
  secretsByConfig.set(
    config,
    [...new Set([...secrets, ...envSecrets])].filter((s) => s.length > 0),
  );
}

/** Values long enough to recognise are cut out of any message, wherever they ended up. */
export function scrubber(values: string[]): (text: string) => string {
  const long = [...new Set(values)].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => long.reduce((out, value) => out.split(value).join('[redacted]'), text);
}
