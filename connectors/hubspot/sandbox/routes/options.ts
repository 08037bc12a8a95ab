/**
 * What every route module of the HubSpot sandbox is given: the portal it answers from, the limits it enforces, the
 * sandbox clock, and `written()` to call after a change (it persists the portal when the sandbox has a state file).
 */
import type { HubSpotLimits } from '../limits.js';
import type { Portal } from '../portal.js';

/**
 * The portal, limits, clock and write notice a route module is given.
 *
 * @example
 * listRoutes(app, { portal, limits: HUBSPOT_LIMITS, now: Date.now, written: () => state.saveSoon() });
 */
export interface RouteOptions {
  portal: Portal;
  limits: HubSpotLimits;
  now: () => number;
  written: () => void;
}
