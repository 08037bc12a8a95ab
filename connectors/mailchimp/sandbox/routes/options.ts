/**
 * What every route module of the Mailchimp sandbox is given: the account it answers from, the limits it enforces,
 * and `written()` to call after a change (it persists the account when the sandbox has a state file).
 */
import type { MailchimpAccount } from '../account.js';
import type { MailchimpLimits } from '../limits.js';

/**
 * The account, limits and write notice a route module is given.
 *
 * @example
 * memberRoutes(app, { account, limits: MAILCHIMP_LIMITS, written: () => account.save() });
 */
export interface RouteOptions {
  account: MailchimpAccount;
  limits: MailchimpLimits;
  written: () => void;
}
