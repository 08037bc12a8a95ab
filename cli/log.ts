/**
 * The logger the `segflow` commands give the engine: pino, one JSON object per line on stderr with `time` (ISO-8601
 * UTC) and `level`, or pino-pretty's coloured lines when stderr is a terminal. The level is the command's default
 * unless `--log-level` (read by main into SEGFLOW_LOG_LEVEL) says otherwise. Fields named like secrets are replaced
 * and the config's secret values scrubbed (redactingLogger) before anything is written.
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { redactingLogger, type Logger } from '../plugins/index.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level `--log-level` asked for, if any. */
export function requestedLogLevel(): LogLevel | undefined {
  const level = process.env.SEGFLOW_LOG_LEVEL;
  return (LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as LogLevel) : undefined;
}

/**
 * A logger on stderr at `--log-level`, else at `defaultLevel`; `secrets` are scrubbed from messages and fields.
 *
 * @example
 * const logger = commandLogger('info', configSecrets(config));
 * logger.info('scheduled', { job: 'nightly' }); // {"level":"info","time":"2026-…Z","message":"scheduled","job":"nightly"}
 */
export function commandLogger(
  defaultLevel: LogLevel,
  secrets: string[] = [],
  options: { pretty?: boolean } = {},
): Logger {
  const level = requestedLogLevel() ?? defaultLevel;
  const destination =
    (options.pretty ?? process.stderr.isTTY)
      ? pretty({ destination: 2, sync: true, messageKey: 'message', translateTime: 'SYS:HH:MM:ss.l' })
      : pino.destination({ fd: 2, sync: true });
  const log = pino(
    {
      level,
      base: null,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const write = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) =>
    log[lvl](fields ?? {}, message);
  return redactingLogger(
    { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
    secrets,
  );
}
