/**
 * The voice of the customer: the topics of the tickets (size, sentiment, example messages when text is kept), the
 * people who wrote on a topic, sentiment and NPS per segment and per month, and one contact's recent messages with
 * their sentiment. Reads only, for either token. Message text is in an answer only when the config keeps text, and
 * then it is the redacted text the store holds.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { listStoredSegments } from '../../core/index.js';
import {
  contactVoice,
  topicPeople,
  voiceBySegment,
  voiceSummary,
  voiceTopics,
  voiceTrend,
} from '../../core/text/index.js';
import { ApiError, idParam, queryOf } from './errors.js';
import { paging, type Shared } from './shared.js';

export const voiceTopicsQuery = z.strictObject({
  examples: z.coerce.number().int().min(0).max(10).default(3).describe('example messages per topic (default 3)'),
});
export const voicePeopleQuery = z.strictObject({
  topic: z.string().min(1).max(500).describe('the topic, as GET /voice/topics names it'),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  per_page: z.coerce.number().int().min(1).max(500).default(50),
});
export const voiceTrendQuery = z.strictObject({
  months: z.coerce
    .number()
    .int()
    .min(1)
    .max(120)
    .default(24)
    .describe('months up to the latest with a message or answer (default 24)'),
});
export const voiceMessagesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(20).describe('messages, newest first (default 20)'),
});

export function voiceRoutes(shared: Shared): Hono {
  const { deps } = shared;
  const app = new Hono();
  // what the page needs to explain an empty answer: whether text is kept (examples) and topics are configured
  // (a config built in code may leave `text` out: nothing kept, no topics)
  const textKept = deps.config.text?.keep === true;
  const settings = () => ({ textKept, topicsConfigured: deps.config.text?.topics !== undefined });

  app.get('/voice/topics', async (c) => {
    const { examples } = queryOf(c, voiceTopicsQuery);
    const summary = await voiceSummary(deps.store);
    return c.json({
      ...settings(),
      scored: summary.scored,
      meanSentiment: summary.meanSentiment,
      nps: summary.nps,
      topics: await voiceTopics(deps.store, examples),
    });
  });

  app.get('/voice/people', async (c) => {
    const q = queryOf(c, voicePeopleQuery);
    const { people, total } = await topicPeople(deps.store, q.topic, {
      limit: q.per_page,
      offset: (q.page - 1) * q.per_page,
    });
    return c.json({
      topic: q.topic,
      // the rule that selects these people, for "make a segment from this"
      rule: { event: 'support_ticket', where: { topic: q.topic } },
      people,
      ...paging(q.page, q.per_page, total),
    });
  });

  app.get('/voice/segments', async (c) => {
    const names = new Map<string, string>([
      ...deps.config.segments.map((s): [string, string] => [s.key, s.name ?? s.key]),
      ...(await listStoredSegments(deps.store)).map((s): [string, string] => [s.key, s.name ?? s.key]),
    ]);
    // the config's segments and the console's live ones: memberships of a segment no longer defined are left out
    const segments = (await voiceBySegment(deps.store)).flatMap((s) => {
      const name = names.get(s.segment);
      return name === undefined ? [] : [{ ...s, name }];
    });
    return c.json({ segments });
  });

  app.get('/voice/trend', async (c) => {
    const { months } = queryOf(c, voiceTrendQuery);
    return c.json({ months: await voiceTrend(deps.store, months) });
  });

  app.get('/voice/contacts/:id', async (c) => {
    const id = idParam(c, 'id');
    const { limit } = queryOf(c, voiceMessagesQuery);
    const voice = await contactVoice(deps.store, id, limit);
    if (!voice) throw new ApiError(404, 'not_found', `no contact ${id}`);
    return c.json({ contactId: id, textKept, ...voice });
  });
  return app;
}
