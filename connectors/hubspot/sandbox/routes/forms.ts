/**
 * Forms (HubSpot forms only unless `formTypes` asks for others) and their submissions, newest first.
 */
import type { Context, Hono } from 'hono';
import { decodeOffset, encodeOffset, intParam, notFound, validation, nextPaging, offsetPage } from '../answers.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * formRoutes(app, { portal, limits, now, written });
 */
export function formRoutes(app: Hono, { portal, limits }: RouteOptions): void {
  const listForms = (c: Context) => {
    const limit = Math.min(Math.max(1, intParam(c.req.query('limit'), 20)), limits.pageSize);
    // Only HubSpot forms unless `formTypes` asks for others (`captured`, `flow`, `blog_comment`) or `all`.
    const types = c.req.queries('formTypes') ?? ['hubspot'];
    const forms = [...portal.forms.values()]
      .filter((f) => types.includes('all') || types.includes(f.formType ?? 'hubspot'))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const from = decodeOffset(c.req.query('after'));
    if (from === undefined) return validation(c, 'invalid after');
    const { page, next } = offsetPage(forms, from, limit);
    return c.json({
      results: page.map((f) => ({
        id: f.id,
        name: f.name,
        formType: f.formType ?? 'hubspot',
        createdAt: new Date(f.createdAt).toISOString(),
        updatedAt: new Date(f.updatedAt).toISOString(),
        archived: false,
      })),
      ...nextPaging(c, '/marketing/v3/forms/', next),
    });
  };
  app.get('/marketing/v3/forms', listForms);
  app.get('/marketing/v3/forms/', listForms);

  // Newest first, as HubSpot answers; `after` walks towards older submissions.
  app.get('/form-integrations/v1/submissions/forms/:formId', (c) => {
    const formId = c.req.param('formId');
    if (!portal.forms.has(formId)) return notFound(c, `Form ${formId} does not exist`);
    const all = portal.formSubmissions.get(formId) ?? [];
    const limit = Math.min(Math.max(1, intParam(c.req.query('limit'), 20)), limits.formSubmissionsPageSize);
    const from = decodeOffset(c.req.query('after'));
    if (from === undefined) return validation(c, 'invalid after');
    const results: unknown[] = [];
    for (let k = from; k < from + limit && k < all.length; k++) {
      const submission = all[all.length - 1 - k] as (typeof all)[number];
      results.push({
        conversionId: submission.conversionId,
        submittedAt: submission.submittedAt,
        values: submission.values,
        pageUrl: submission.pageUrl,
      });
    }
    const next = from + limit < all.length ? encodeOffset(from + limit) : undefined;
    return c.json({
      results,
      ...nextPaging(c, `/form-integrations/v1/submissions/forms/${formId}`, next),
    });
  });
}
