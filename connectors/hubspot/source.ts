/**
 * The HubSpot source: contacts (list endpoint for full refresh and for the first incremental read; search on
 * lastmodifieddate for later incremental reads, a fresh query after each timestamp and a crowd sharing one millisecond
 * walked by id, so neither the 10,000-result cap nor a tie can stall or lose it), archived contacts as deletions,
 * merged ids as linked ids, marketing email
 * events from the Email Events API, and meetings, calls, logged emails and deals linked to their contacts through
 * the associations API, form submissions, and custom behavioural events from the Events API where the portal has
 * them, and companies as accounts with their associated contacts; plus the webhook hook (v3 signatures, see webhook.ts). One file a stream in streams/, as the Faros CDK keeps
 * them; what they share (search, list walks) in streams/read.ts.
 */
import { defineSource } from '../../plugins/index.js';
import { checkHubSpot, classifyHubSpotError, HUBSPOT_BUDGET, hubspotSpec } from './client.js';
import { archivedContactsStream } from './streams/archived-contacts.js';
import { behaviouralEventsStream } from './streams/behavioural-events.js';
import { companiesStream } from './streams/companies.js';
import { contactsStream } from './streams/contacts.js';
import { emailEventsStream } from './streams/email-events.js';
import { engagementStream } from './streams/engagements.js';
import { formSubmissionsStream } from './streams/form-submissions.js';
import { feedbackSubmissionsStream, ticketsStream } from './streams/voice.js';
import { hubspotWebhook } from './webhook.js';

export { contactRecord } from './streams/contacts.js';
export { packIds, unpackIds } from './streams/archived-contacts.js';

/**
 * The HubSpot source.
 *
 * @example
 * const streams = source.streams(hubspotSpec.parse({ accessToken: process.env.HUBSPOT_TOKEN }));
 */
export const source = defineSource({
  name: 'hubspot',
  spec: hubspotSpec,
  rateBudget: HUBSPOT_BUDGET,
  classifyError: classifyHubSpotError,
  check: checkHubSpot,
  // The largest stream first: the engine loads streams in this order while later ones only fetch ahead, so the
  // marketing email events (most of a portal's records) load while the CRM streams are still being fetched.
  streams: (config) => [
    emailEventsStream(),
    contactsStream(config),
    archivedContactsStream(config),
    engagementStream('meetings'),
    engagementStream('calls'),
    engagementStream('deals'),
    formSubmissionsStream(),
    behaviouralEventsStream(),
    companiesStream(),
    ticketsStream(),
    feedbackSubmissionsStream(),
    ...(config.loggedEmails ? [engagementStream('emails')] : []),
  ],
  webhook: hubspotWebhook,
});
