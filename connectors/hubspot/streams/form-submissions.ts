/**
 * The form submissions stream: every form (non-HubSpot and pop-up types included) and its submissions, newest first.
 */
import type { EventRecord, StreamDefinition, StreamMessage } from '../../../plugins/index.js';
import { connectionFor, type HubSpotConfig } from '../client.js';
import { OVERLAP_MS, type Paged, type FormSubmissionResult, newestCursor, eventsSince } from './read.js';

/**
 * Form submissions as `form_submit` events, attributed by the email submitted. The submissions API has no time
 * filter and answers newest first, so each form is paged until a submission older than the cursor less the overlap.
 */
export function formSubmissionsStream(): StreamDefinition<HubSpotConfig> {
  return {
    name: 'form_submissions',
    recordKind: 'event',
    primaryKey: 'sourceEventId',
    cursorField: 'occurredAt',
    modes: ['full_refresh', 'incremental'],
    overlap: OVERLAP_MS,
    async *read(request, ctx): AsyncIterable<StreamMessage> {
      const connection = connectionFor(request.config);
      const since = eventsSince(request);
      const forms: { id: string; name: string }[] = [];
      let after: string | undefined;
      do {
        const page = await connection.raw<Paged<{ id: string; name: string }>>(
          ctx,
          'forms.list',
          '/marketing/v3/forms/',
          // Every form type: without it HubSpot lists only its own forms, leaving out pop-ups and captured forms.
          { limit: '100', formTypes: 'all', ...(after ? { after } : {}) },
        );
        forms.push(...page.results);
        after = page.paging?.next?.after;
      } while (after);
      // Yielded as they come, newest first, so a form with a million submissions is never held in memory; the
      // checkpoint comes at the end (a run stopped midway reads the forms again, and the load skips what it has).
      const previous =
        request.mode === 'incremental' ? ((request.state?.cursor as string | null | undefined) ?? null) : null;
      let newest: string | null = null;
      let unattributed = 0;
      for (const form of forms) {
        let next: string | undefined;
        let older = false;
        do {
          const page = await connection.raw<Paged<FormSubmissionResult>>(
            ctx,
            'forms.submissions',
            `/form-integrations/v1/submissions/forms/${encodeURIComponent(form.id)}`,
            { limit: '50', ...(next ? { after: next } : {}) },
          );
          for (const submission of page.results) {
            if (submission.submittedAt < since) {
              older = true;
              break;
            }
            const values = Object.fromEntries(submission.values.map((v) => [v.name, v.value]));
            if (!values.email) {
              unattributed++;
              continue;
            }
            const occurredAt = new Date(submission.submittedAt).toISOString();
            if (!newest || occurredAt > newest) newest = occurredAt;
            const record: EventRecord = {
              kind: 'event',
              source: 'hubspot',
              sourceEventId: `form:${submission.conversionId}`,
              type: 'form_submit',
              occurredAt,
              contact: { email: values.email },
              properties: {
                form_id: form.id,
                form_name: form.name,
                ...(submission.pageUrl ? { url: submission.pageUrl } : {}),
                values,
              },
            };
            yield { type: 'record', record };
          }
          next = page.paging?.next?.after;
        } while (next && !older);
      }
      if (unattributed > 0)
        ctx.logger.warn('HubSpot form submissions without an email skipped', {
          connection: ctx.connection,
          count: unattributed,
        });
      yield newestCursor(newest, previous);
    },
  };
}
