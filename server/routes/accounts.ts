/**
 * Accounts (companies), read-only: GET /accounts?search= finds live accounts by name or domain, GET /accounts/:id is
 * an account's page data (traits, tool records, features, members, the account segments it is in with their names
 * from the config or the console, merges). The console's account page reads them.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { accountProfile, findAccounts } from '../../core/accounts/index.js';
import { listStoredSegments } from '../../core/index.js';
import { ApiError, idParam, queryOf } from './errors.js';
import type { Shared } from './shared.js';

/** GET /accounts: `search`, a part of a name or domain. */
export const accountsQuery = z.strictObject({ search: z.string().min(1).max(200) });

export function accountRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();

  app.get('/accounts', async (c) => {
    const { search } = queryOf(c, accountsQuery);
    return c.json({ accounts: await findAccounts(deps.store, search) });
  });

  app.get('/accounts/:id', async (c) => {
    const id = idParam(c, 'id');
    const profile = await accountProfile(deps.store, id);
    if (!profile) throw new ApiError(404, 'not_found', `no account ${id}`);
    const names = new Map(
      [...(deps.config.account_segments ?? []), ...(await listStoredSegments(deps.store, { kind: 'accounts' }))].map(
        (s) => [s.key, s.name],
      ),
    );
    return c.json({
      ...profile,
      segments: profile.segments.map((s) => ({ ...s, name: names.get(s.key) ?? s.key })),
    });
  });
  return app;
}
