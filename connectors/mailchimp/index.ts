/**
 * The Mailchimp connector: audience members and campaign engagement in, segment membership out as tags or static
 * segments, on the official `@mailchimp/mailchimp_marketing` SDK; plus its sandbox.
 *
 * @example
 * import { source, destination, startSandbox, sandboxConfig } from './connectors/mailchimp/index.js';
 */
export * from './sandbox/index.js';
export {
  source,
  sourceSpec,
  subscriberHash,
  memberToContact,
  webhookRecords,
  MEMBERS_OVERLAP_MS,
  type SourceConfig,
} from './source.js';
export { clientFor, classifyMailchimpError, mailchimpCall, MAX_CONNECTIONS, type MailchimpClient } from './client.js';
export {
  destination,
  destinationSpec,
  SEGMENT_SIDE_CAP,
  BATCH_SUBSCRIBE_CAP,
  type DestinationConfig,
} from './destination.js';
