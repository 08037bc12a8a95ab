/**
 * The Segment connector: segment membership out as `identify` (membership and mapped traits) plus `track`
 * ("Segment Entered" / "Segment Exited") on the official `@segment/analytics-node` SDK; plus its sandbox.
 *
 * @example
 * import { destination, startSandbox, sandboxConfig } from './connectors/segment/index.js';
 */
export * from './sandbox/index.js';
