/**
 * HubSpot's limits, real values by default: the request budgets the kit's limiters enforce and the page and batch
 * sizes the routes enforce.
 */

/**
 * HubSpot's limits; every one can be changed for a test or a benchmark.
 *
 * @example
 * await startSandbox({ limits: { requestsPerInterval: 190 } }); // a Pro/Enterprise portal
 */
export interface HubSpotLimits {
  /** Requests per rolling interval (100 per 10 s for a private app; 190 on Pro/Enterprise). */
  requestsPerInterval: number;
  intervalMs: number;
  /** Requests per day (250,000 on Free/Starter). */
  daily: number;
  /** Search requests per second (about 5). */
  searchPerSecond: number;
  /** Largest `limit` of a list page. */
  pageSize: number;
  /** Largest `limit` of a search page. */
  searchPageSize: number;
  /** Results one search query can page through; paging past it answers 400. */
  searchResultCap: number;
  /** Inputs per batch call. */
  batchSize: number;
  /** Record ids per membership call (undocumented by HubSpot). */
  membershipIdsPerCall: number;
  /** Largest `limit` of a list-memberships page. */
  membershipPageSize: number;
  /** Largest `limit` of an Email Events page. */
  emailEventsPageSize: number;
  /** Inputs per associations v4 batch read. */
  associationBatchSize: number;
  /**
   * Associations a batch read answers per object before paging the rest (`paging.next.after`, read on through
   * `GET /crm/v4/objects/{type}/{id}/associations/{to}`); also that route's largest page. Undocumented: 500 assumed.
   */
  associationsPerObject: number;
  /** Largest `limit` of a form-submissions page (50). */
  formSubmissionsPageSize: number;
  /** Largest `limit` of an Events API page (unconfirmed; 100 like the CRM list endpoints). */
  eventsPageSize: number;
}

/**
 * HubSpot's published limits for a private app on a Free or Starter portal.
 *
 * @example
 * const limits = { ...HUBSPOT_LIMITS, searchPerSecond: 1_000 };
 */
export const HUBSPOT_LIMITS: HubSpotLimits = {
  requestsPerInterval: 100,
  intervalMs: 10_000,
  daily: 250_000,
  searchPerSecond: 5,
  pageSize: 100,
  searchPageSize: 200,
  searchResultCap: 10_000,
  batchSize: 100,
  membershipIdsPerCall: 100,
  membershipPageSize: 250,
  emailEventsPageSize: 1000,
  associationBatchSize: 1000,
  associationsPerObject: 500,
  formSubmissionsPageSize: 50,
  eventsPageSize: 100,
};
