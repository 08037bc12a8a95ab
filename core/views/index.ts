/**
 * Views: the read-only queries the admin API and the console show (a contact's unified profile, segment sizes over
 * time, members, profiles and migrations, store totals). Re-exports only.
 */
export type { ContactProfile, StoreTotals } from './contacts.js';
export {
  contactProfile,
  contactIdsByEmail,
  consentByTool,
  contactsInAnySegment,
  storeReachable,
  storeTotals,
} from './contacts.js';
export type {
  SegmentRunRow,
  MemberRow,
  SegmentProfileView,
  MigrationCell,
  ModelOutputSummary,
  HistogramBin,
} from './segments.js';
export {
  segmentRunHistory,
  segmentMembersPage,
  segmentProfile,
  migrationBetween,
  modelOutputSummaries,
  modelOutputHistogram,
} from './segments.js';
export type { DeliveryReason, RunReportRow, ScoredPerson } from './people.js';
export { recentRunReports, scoredPeople, segmentDeliveryReasons } from './people.js';
