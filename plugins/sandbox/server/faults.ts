/**
 * Switchable faults as hono middleware: a seeded share of requests, or a scripted sequence, answered with a 429, a
 * 5xx, an expired-token 401, or held back before being answered normally. Tests switch them at runtime with
 * `faults.set({...})`; the sandbox renders each fault in its tool's own error shape.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { hashSeed, Rng } from '../world/random.js';

/**
 * The faults a sandbox can inject.
 *
 * @example
 * faults.set({ script: ['unauthorized'] satisfies FaultKind[] }); // the next request gets an expired-token 401
 */
export type FaultKind = 'rate_limited' | 'server_error' | 'unauthorized' | 'slow';

/**
 * The faults in {@link FaultKind}.
 *
 * @example
 * faults.set({ rate: 0.2, kinds: FAULT_KINDS.filter((k) => k !== 'slow') });
 */
export const FAULT_KINDS: readonly FaultKind[] = ['rate_limited', 'server_error', 'unauthorized', 'slow'];

/**
 * One scripted fault: a kind, optionally with the variant of the tool's rendering to use (Mailchimp throttles with a
 * 429 problem body or, sometimes, a bare HTML 403: `{ kind: 'rate_limited', variant: 'bare403' }`). The tool's
 * responder reads the variant from the {@link FiredFault} it is given.
 *
 * @example
 * faults.set({ script: ['rate_limited', { kind: 'rate_limited', variant: 'bare403' }] satisfies ScriptedFault[] });
 */
export type ScriptedFault = FaultKind | { kind: FaultKind; variant: string } | null;

/**
 * What to inject; everything is off unless set.
 *
 * @example
 * faults.set({ match: '/crm/v3/lists', script: Array(5).fill('rate_limited'), retryAfterSeconds: 2 });
 */
export interface FaultPlan {
  /** Share (0–1) of matching requests that get a fault drawn from `kinds`, from the seeded generator. */
  rate?: number;
  /** The kinds `rate` draws from, equally likely; default every kind. */
  kinds?: readonly FaultKind[];
  /**
   * A scripted sequence: the next matching requests get these faults in order (`null` lets one through), before
   * `rate` applies again. A storm of five 429s is `Array(5).fill('rate_limited')`.
   */
  script?: readonly ScriptedFault[];
  /** Only requests for which this is true (or whose path starts with this string) can get a fault. */
  match?: string | ((c: Context) => boolean);
  /** Status of a `server_error` (default 503). */
  serverErrorStatus?: number;
  /** How long a `slow` request is held before it is answered normally, in ms (default 2000). */
  slowMs?: number;
  /** Seconds put in `Retry-After` of a `rate_limited` (default 1); 0 leaves the header out. */
  retryAfterSeconds?: number;
  /**
   * Faults fire only before this time (epoch ms on the faults' clock): a storm that lasts a while, as when other
   * apps of the same account use up the limit, whatever the number of requests.
   */
  until?: number;
}

/**
 * A fault that fired.
 *
 * @example
 * expect(faults.fired().map((f) => f.kind)).toEqual(['rate_limited', 'rate_limited']);
 */
export interface FiredFault {
  kind: FaultKind;
  method: string;
  path: string;
  /** The position of the request among all requests that reached the fault middleware, from 0. */
  request: number;
  /** The rendering asked for by a scripted `{ kind, variant }`, if any. */
  variant?: string;
}

/**
 * Builds a fault's response in the tool's shape; any kind left out gets a generic JSON answer.
 *
 * @example
 * createFaults({ respond: { rate_limited: (c) => c.json([{ errorCode: 'REQUEST_LIMIT_EXCEEDED' }], 403) } });
 */
export interface FaultResponses {
  rate_limited?: (c: Context, plan: FaultPlan, fault: FiredFault) => Response | Promise<Response>;
  server_error?: (c: Context, status: number, fault: FiredFault) => Response | Promise<Response>;
  unauthorized?: (c: Context, fault: FiredFault) => Response | Promise<Response>;
}

/**
 * Options of {@link createFaults}.
 *
 * @example
 * const faults = createFaults({ seed: 7, respond: { server_error: (c) => c.json({ status: 'error' }, 503) } });
 */
export interface FaultOptions {
  /** Seeds the draws of `rate`: the same seed and the same request order fire the same faults. */
  seed?: string | number;
  /** The plan to start with (default: no faults). */
  plan?: FaultPlan;
  respond?: FaultResponses;
  /** How `slow` waits (default a real timer); tests may pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock `until` is read on, epoch ms (default `Date.now`). */
  now?: () => number;
  /** Status of a `server_error` when the plan names none (default 503; HubSpot's edge: 502). */
  serverErrorStatus?: number;
}

/**
 * Fault injection: hono middleware plus runtime controls.
 *
 * @example
 * app.use('*', faults);
 * faults.set({ rate: 0.1 });
 * // … run …
 * faults.clear(); // all off
 */
export type Faults = MiddlewareHandler & {
  /** Replaces the plan (and restarts its script). */
  set(plan: FaultPlan): void;
  /** Switches every fault off. */
  clear(): void;
  /** Queues a storm: the next `count` matching requests get `kind` (default `rate_limited`), before the plan resumes. */
  storm(count: number, kind?: FaultKind): void;
  /** The current plan. */
  plan(): FaultPlan;
  /** Faults fired so far, oldest first. */
  fired(): readonly FiredFault[];
  /** How many of each kind fired. */
  counts(): Record<FaultKind, number>;
};

/**
 * Creates switchable, seeded fault injection.
 *
 * @example
 * const faults = createFaults({ seed: 1, respond: { rate_limited: (c) => c.json({ policyName: 'SECONDLY' }, 429) } });
 * app.use('*', faults);
 * faults.set({ script: ['rate_limited', 'rate_limited', null, 'server_error'] }); // in a test
 * faults.set({ rate: 0.1, kinds: ['server_error', 'slow'], slowMs: 50 });
 */
export function createFaults(options: FaultOptions = {}): Faults {
  const seedHash = hashSeed(options.seed ?? 0);
  let rng = new Rng(seedHash);
  let plan: FaultPlan = {};
  let script: ScriptedFault[] = [];
  let requests = 0;
  const fired: FiredFault[] = [];
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const kindOf = (k: ScriptedFault) => (k !== null && typeof k === 'object' ? k.kind : k);

  const set = (next: FaultPlan) => {
    if (next.rate !== undefined && !(next.rate >= 0 && next.rate <= 1)) {
      throw new Error(`faults: rate is a share between 0 and 1, got ${String(next.rate)}`);
    }
    for (const k of [...(next.kinds ?? []), ...(next.script ?? []).map(kindOf)]) {
      if (k !== null && !FAULT_KINDS.includes(k))
        throw new Error(`faults: unknown fault "${String(k)}"; use one of ${FAULT_KINDS.join(', ')}`);
    }
    if (next.kinds && next.kinds.length === 0)
      throw new Error('faults: kinds is empty; leave it out to draw from every kind');
    plan = { ...next };
    script = [...(next.script ?? [])];
    rng = new Rng(seedHash);
  };
  set(options.plan ?? {});

  const matches = (c: Context) =>
    plan.match === undefined
      ? true
      : typeof plan.match === 'string'
        ? c.req.path.startsWith(plan.match)
        : plan.match(c);

  const choose = (c: Context): ScriptedFault => {
    if (!matches(c)) return null;
    if (plan.until !== undefined && now() >= plan.until) return null;
    if (script.length > 0) return script.shift() ?? null;
    if (!plan.rate) return null;
    return rng.next() < plan.rate ? rng.pick(plan.kinds ?? FAULT_KINDS) : null;
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const n = requests++;
    const chosen = choose(c);
    if (!chosen) return next();
    const kind = kindOf(chosen) as FaultKind;
    const fault: FiredFault = { kind, method: c.req.method, path: c.req.path, request: n };
    if (typeof chosen === 'object') fault.variant = chosen.variant;
    fired.push(fault);
    switch (kind) {
      case 'slow':
        await sleep(plan.slowMs ?? 2000);
        return next();
      case 'rate_limited': {
        if (options.respond?.rate_limited) return options.respond.rate_limited(c, plan, fault);
        const seconds = plan.retryAfterSeconds ?? 1;
        return c.json(
          { error: 'rate_limited', message: 'Too many requests (injected fault).' },
          429,
          seconds > 0 ? { 'Retry-After': String(seconds) } : {},
        );
      }
      case 'server_error': {
        const status = plan.serverErrorStatus ?? options.serverErrorStatus ?? 503;
        if (options.respond?.server_error) return options.respond.server_error(c, status, fault);
        return new Response(
          JSON.stringify({ error: 'server_error', message: 'Service unavailable (injected fault).' }),
          {
            status,
            headers: { 'content-type': 'application/json' },
          },
        );
      }
      case 'unauthorized':
        if (options.respond?.unauthorized) return options.respond.unauthorized(c, fault);
        return c.json({ error: 'unauthorized', message: 'The access token has expired (injected fault).' }, 401);
    }
  };

  return Object.assign(middleware, {
    set,
    clear: () => set({}),
    storm: (count: number, kind: FaultKind = 'rate_limited') => {
      if (!Number.isInteger(count) || count < 0)
        throw new Error(`faults: storm count must be a non-negative integer, got ${String(count)}`);
      if (!FAULT_KINDS.includes(kind))
        throw new Error(`faults: unknown fault "${String(kind)}"; use one of ${FAULT_KINDS.join(', ')}`);
      script.unshift(...new Array<FaultKind>(count).fill(kind));
    },
    plan: () => ({ ...plan, script: [...script] }),
    fired: () => fired,
    counts: () => {
      const counts: Record<FaultKind, number> = { rate_limited: 0, server_error: 0, unauthorized: 0, slow: 0 };
      for (const f of fired) counts[f.kind]++;
      return counts;
    },
  });
}
