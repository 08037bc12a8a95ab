/**
 * The `segflow` command. Each subcommand lives in its own module under cli/commands and is loaded on demand.
 */
export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  process.stderr.write(`segflow: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

const USAGE = `usage: segflow <command> [options]

commands:
  validate <config.yaml>             check a config file and print what it defines
  check <config.yaml> [connection]   prove each connection's credentials work

exit codes: 0 ok, 1 a check or run failed, 2 bad usage or invalid config
`;
