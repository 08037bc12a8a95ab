/**
 * The conformance kit: one call in a connector's test file registers Airbyte-style acceptance checks with vitest —
 * spec and secrets, check with good and bad credentials, canonical records, unique keys, incremental reads that honour
 * cursor and overlap, monotonic checkpoints, webhook signatures, idempotent writes and bad-row isolation. The checks
 * are also plain async functions (`sourceChecks`, `destinationChecks`) that throw a `ConformanceError` naming the
 * problem. It depends on vitest, so it is not re-exported from `plugins/index.ts`.
 *
 * @example
 * import { runSourceConformance } from '../../plugins/conformance/index.js';
 * runSourceConformance({ connector: source, config, badConfig });
 */
export { ConformanceError, ConformanceSkip, cursorNumber, valueAt, type CommonOptions } from './shared.js';
export {
  runSourceConformance,
  sourceChecks,
  SOURCE_CHECKS,
  type SourceCheckName,
  type SourceChecks,
  type SourceConformanceOptions,
  type SourceFixture,
  type WebhookCase,
} from './source.js';
export {
  runDestinationConformance,
  destinationChecks,
  DESTINATION_CHECKS,
  type DestinationCheckName,
  type DestinationChecks,
  type DestinationConformanceOptions,
  type DestinationFixture,
} from './destination.js';
