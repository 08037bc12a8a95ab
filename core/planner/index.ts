/**
 * The reverse-ETL planner's queries: the diff of current membership against what was last delivered to a destination
 * (adds, removes, trait updates, retries, with who each change is about and the mapped traits they carry), and the
 * recording of each row's outcome in delivered state.
 */
export type {
  ContactIdentity as PlannedContact,
  PushMode,
  PlanPushOptions,
  PlannedChange,
  SegmentPlan,
  PlanSkips,
  SegmentHolder,
  MessageIdOf,
} from './plan.js';
export { PUSH_MODES, planPush, pushMessageId, segmentHolders } from './plan.js';
export type { PushRowOutcome } from './outcomes.js';
export { recordPushOutcomes } from './outcomes.js';
export type { TraitSource } from './traits.js';
export { mappedTraitsSql, parseTraitSource } from './traits.js';
