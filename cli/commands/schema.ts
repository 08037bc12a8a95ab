/**
 * `segflow schema`: prints the JSON Schema of the config file, generated from the zod schema the loader validates
 * with, the built-in connectors' `config:` blocks included. For editors, through the yaml-language-server line.
 */
import { configJsonSchema } from '../../config/json-schema.js';
import { BUILTIN_CONNECTORS } from '../builtins.js';
import { EXIT, type Command } from '../main.js';

const HELP = `usage: segflow schema

Prints the JSON Schema (draft-07) of a segflow config file: every section and key with its type, the
built-in connectors' config blocks, and the segment entries (rules themselves are checked by segflow validate).
Save it beside your config and name it on the file's first line, for completion and inline errors in editors
that use the YAML language server (VS Code's YAML extension, among others):

  segflow schema > segflow.schema.json
  # yaml-language-server: $schema=./segflow.schema.json

exit codes:
  0  printed
  2  the command was used wrongly
`;

export const command: Command = {
  summary: 'print the JSON Schema of the config file, for editors',
  usage: 'schema',
  run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP);
      return Promise.resolve(EXIT.ok);
    }
    if (argv.length > 0) {
      process.stderr.write(`segflow schema: unexpected argument "${argv[0]}"\n\n${HELP}`);
      return Promise.resolve(EXIT.usage);
    }
    process.stdout.write(`${JSON.stringify(configJsonSchema(BUILTIN_CONNECTORS), null, 2)}\n`);
    return Promise.resolve(EXIT.ok);
  },
};
