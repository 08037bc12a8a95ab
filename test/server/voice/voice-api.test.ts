/**
 * The voice API (GET /voice/topics, /voice/people, /voice/segments, /voice/trend, /voice/contacts/:id) on a store
 * filled from the sandboxes' rendering of one world, on both engines, checked against the world's truth: the topics
 * are the world's, their example messages are the world's tickets of that topic (redacted), the people listed under
 * a topic wrote about it and are exactly those the topic's rule selects, and NPS per segment and per month counts the
 * world's survey answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { openStore, type Store } from '../../../core/index.js';
import { npsCategory } from '../../../core/text/index.js';
import type { Logger } from '../../../plugins/index.js';
import { WORLD_TOPICS, type WorldSurvey } from '../../../plugins/sandbox/index.js';
import { createServer } from '../../../server/index.js';
import { engines, type StoreLocation } from '../../support/engines.js';
import { seedVoiceWorld, type VoiceWorld } from './world.js';

const ADMIN = 'voice-admin-token-4b8e2c6a1f9d3e7b';
const READ = 'voice-read-token-8d1f5a3c7e9b2d4f';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field
type Body = Record<string, any>;

for (const engine of engines) {
  describe(`the voice API on ${engine.name}`, () => {
    let place: StoreLocation;
    let seeded: VoiceWorld;
    let store: Store;
    let app: ReturnType<typeof createServer>;

    const get = async (path: string, token: string | null = READ): Promise<{ status: number; json: Body }> => {
      const res = await app.request(path, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
      return { status: res.status, json: (await res.json()) as Body };
    };
    const ok = async (path: string): Promise<Body> => {
      const res = await get(path);
      expect(res.status, `${path}: ${JSON.stringify(res.json)}`).toBe(200);
      return res.json;
    };
    /** Whether person `i` is a live HubSpot contact (the only tool that renders survey answers). */
    const inHubSpot = (i: number) => seeded.world.person(i).tools.hubspot?.archived === false;
    /** The world's people behind a contact's email (several when it is a shared role address). */
    const peopleOf = (email: string | null) => (email ? (seeded.peopleByEmail.get(email) ?? []) : []);

    beforeAll(async () => {
      place = await engine.fresh();
      seeded = await seedVoiceWorld(place.location, {
        people: 300,
        seed: 'voice-api',
        adminToken: ADMIN,
        readToken: READ,
      });
      store = await openStore(place.location);
      app = createServer({
        config: seeded.config,
        store,
        registry: builtinRegistry(),
        logger: quiet,
        env: seeded.env,
        now: () => seeded.now,
        startJob: () => Promise.resolve({ status: 'succeeded' }),
      });
    }, 300_000);

    afterAll(async () => {
      await store?.close();
      await seeded?.close();
      await place?.remove();
    }, 60_000);

    it("lists the world's topics, each with its size and examples that are the world's tickets on it, redacted", async () => {
      const answer = await ok('/voice/topics');
      expect(answer).toMatchObject({ textKept: true, topicsConfigured: true });
      const names = answer.topics.map((t: Body) => t.topic);
      console.info(`topics: ${answer.topics.map((t: Body) => `${t.topic} (${t.tickets})`).join(', ')}`);
      expect([...names].sort()).toEqual([...WORLD_TOPICS].sort());
      // largest first
      const sizes = answer.topics.map((t: Body) => t.tickets);
      expect(sizes).toEqual([...sizes].sort((a: number, b: number) => b - a));
      for (const topic of answer.topics) {
        expect(topic.people).toBeGreaterThan(0);
        expect(topic.people).toBeLessThanOrEqual(topic.tickets);
        expect(topic.negativeShare).toBeGreaterThanOrEqual(0);
        expect(topic.negativeShare).toBeLessThanOrEqual(1);
        expect(topic.examples.length).toBe(3);
        for (const example of topic.examples) {
          expect(example).not.toMatch(/@example\.com|4242 4242|555 \d{4}/);
          expect(seeded.topicOfText.get(example), example).toBe(topic.topic);
        }
      }
      // every scored message counted once, and the NPS categories are contacts' latest answers
      expect(answer.scored).toBeGreaterThan(0);
      expect(answer.nps.promoter + answer.nps.passive + answer.nps.detractor).toBeGreaterThan(0);
    });

    it('lists the people who wrote about a topic, who are the ones its rule selects', async () => {
      const { topics } = await ok('/voice/topics');
      for (const topic of topics) {
        const answer = await ok(`/voice/people?topic=${encodeURIComponent(topic.topic)}&per_page=500`);
        expect(answer.rule).toEqual({ event: 'support_ticket', where: { topic: topic.topic } });
        expect(answer.total).toBe(topic.people);
        expect(answer.people).toHaveLength(topic.people);
        expect(answer.people.reduce((n: number, p: Body) => n + p.tickets, 0)).toBe(topic.tickets);
        // the most tickets first
        const counts = answer.people.map((p: Body) => p.tickets);
        expect(counts).toEqual([...counts].sort((a: number, b: number) => b - a));
        // The topic model tags most tickets as the world wrote them (its adjusted Rand index on the demo world is
        // above 0.9): nine in ten of the people listed have a ticket on that topic in the world.
        const wrote = answer.people.filter((p: Body) =>
          peopleOf(p.email).some((i) => seeded.voice.tickets(i).some((t) => t.topic === topic.topic)),
        ).length;
        expect(wrote / answer.people.length, topic.topic).toBeGreaterThan(0.9);
        // "make a segment from this": the rule counts the same people
        const res = await app.request('/segments/preview', {
          method: 'POST',
          headers: { Authorization: `Bearer ${READ}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ rule: answer.rule, sample: 0 }),
        });
        expect(res.status).toBe(200);
        expect(((await res.json()) as Body).count, topic.topic).toBe(answer.total);
      }
      const page2 = await ok(`/voice/people?topic=${encodeURIComponent(topics[0].topic)}&per_page=5&page=2`);
      expect(page2).toMatchObject({ page: 2, perPage: 5, total: topics[0].people });
      expect(page2.people).toHaveLength(5);
      expect((await ok('/voice/people?topic=no%20such%20topic')).total).toBe(0);
    });

    it("counts each segment's NPS answers as the world's latest answer of each member", async () => {
      const { segments } = await ok('/voice/segments');
      expect(segments.length).toBeGreaterThan(0);
      for (const s of segments) {
        expect(s.promoters + s.passives + s.detractors, s.segment).toBe(s.answered);
        expect(s.answered).toBeLessThanOrEqual(s.members);
        if (s.answered > 0) expect(s.nps).toBe(Math.round((100 * (s.promoters - s.detractors)) / s.answered));
        else expect(s.nps).toBeNull();
      }
      expect(segments.find((s: Body) => s.segment === 'detractors_at_risk')).toMatchObject({
        name: 'Detractors at Risk',
        nps: -100,
      });
      // the segment with most answers among those listable on one page, against the world
      const checked = segments
        .filter((s: Body) => s.members <= 500)
        .sort((a: Body, b: Body) => b.answered - a.answered)[0];
      expect(checked.answered).toBeGreaterThan(10);
      const { members } = await ok(`/segments/${checked.segment}/members?per_page=500`);
      expect(members).toHaveLength(checked.members);
      const truth = { promoter: 0, passive: 0, detractor: 0 };
      for (const m of members) {
        const answers = peopleOf(m.email)
          .filter(inHubSpot)
          .flatMap((i) => seeded.voice.surveys(i).filter((s) => s.kind === 'nps'))
          .sort((a, b) => a.at - b.at);
        const last = answers.at(-1);
        if (last) truth[npsCategory(last.score)]++;
      }
      expect({ promoter: checked.promoters, passive: checked.passives, detractor: checked.detractors }).toEqual(truth);
    });

    it("gives tickets, sentiment and NPS month by month, the world's NPS answers counted in their month", async () => {
      const { months } = await ok('/voice/trend?months=120');
      expect(months.length).toBeGreaterThan(6);
      // every month from the first to the last, a quiet one included with zeros
      const after = (month: string) => {
        const [y, m] = month.split('-').map(Number) as [number, number];
        return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
      };
      months.slice(1).forEach((m: Body, i: number) => expect(m.month).toBe(after(months[i].month)));
      // HubSpot renders each answer associated with its contact; an archived contact's answers are not read
      const answers: WorldSurvey[] = [];
      for (let i = 0; i < seeded.world.size; i++)
        if (inHubSpot(i)) answers.push(...seeded.voice.surveys(i).filter((s) => s.kind === 'nps'));
      const byMonth = new Map<string, { n: number; promoters: number; detractors: number }>();
      for (const s of answers) {
        const month = new Date(Math.round(s.at)).toISOString().slice(0, 7);
        const row = byMonth.get(month) ?? { n: 0, promoters: 0, detractors: 0 };
        row.n++;
        if (s.score >= 9) row.promoters++;
        if (s.score <= 6) row.detractors++;
        byMonth.set(month, row);
      }
      const got = months.filter((m: Body) => m.npsAnswers > 0).map((m: Body) => [m.month, m.npsAnswers, m.nps]);
      const want = [...byMonth]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([month, r]) => [month, r.n, Math.round((100 * (r.promoters - r.detractors)) / r.n)]);
      expect(got).toEqual(want);
      for (const m of months) {
        if (m.sentiment !== null) expect(Math.abs(m.sentiment)).toBeLessThanOrEqual(1);
        expect(m.scored > 0).toBe(m.sentiment !== null);
      }
      expect((await ok('/voice/trend?months=3')).months).toEqual(months.slice(-3));
    });

    it("shows a contact's latest messages with their sentiment, the text redacted", async () => {
      const { topics } = await ok('/voice/topics');
      const { people } = await ok(`/voice/people?topic=${encodeURIComponent(topics[0].topic)}&per_page=1`);
      const answer = await ok(`/voice/contacts/${people[0].contactId}`);
      expect(answer.textKept).toBe(true);
      expect(answer.features).not.toBeNull();
      expect(answer.messages.length).toBeGreaterThan(0);
      const times = answer.messages.map((m: Body) => m.occurredAt);
      expect(times).toEqual([...times].sort().reverse());
      const ticket = answer.messages.find((m: Body) => m.type === 'support_ticket' && m.topic === topics[0].topic);
      expect(ticket).toBeDefined();
      for (const m of answer.messages) {
        if (m.text) expect(m.text).not.toMatch(/@example\.com|4242 4242|555 \d{4}/);
        if (m.sentiment !== null)
          expect(m.label).toBe(m.sentiment >= 0.05 ? 'positive' : m.sentiment <= -0.05 ? 'negative' : 'neutral');
        if (m.author === 'agent') expect(m.sentiment).toBeNull();
      }
      expect((await ok(`/voice/contacts/${people[0].contactId}?limit=1`)).messages).toHaveLength(1);
    });

    it('answers the read-only token, refuses no token, and names what is wrong with a request', async () => {
      expect((await get('/voice/topics', ADMIN)).status).toBe(200);
      for (const path of [
        '/voice/topics',
        '/voice/segments',
        '/voice/trend',
        '/voice/people?topic=x',
        '/voice/contacts/1',
      ])
        expect((await get(path, null)).json.error.code, path).toBe('unauthorized');
      const missing = await get('/voice/people');
      expect(missing).toMatchObject({ status: 400, json: { error: { code: 'invalid_query', field: 'topic' } } });
      const unknown = await get('/voice/topics?colour=red');
      expect(unknown).toMatchObject({ status: 400, json: { error: { code: 'invalid_query' } } });
      expect(await get('/voice/contacts/99999999')).toMatchObject({
        status: 404,
        json: { error: { code: 'not_found' } },
      });
      expect((await get('/voice/contacts/abc')).status).toBe(404);
      const doc = await ok('/openapi.json');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/voice/topics',
          '/voice/people',
          '/voice/segments',
          '/voice/trend',
          '/voice/contacts/{id}',
        ]),
      );
    });
  });
}
