import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, fitTopics, redactText, scoreMessage } from '../../core/text/index.js';
import { createWorld, worldVoice, WORLD_TOPICS } from '../../plugins/sandbox/index.js';

// The demo's world (seed 'demo', 20,000 people); its first 2,500 people keep the test to seconds.
const world = createWorld({ seed: 'demo', people: 20_000 });
const voice = worldVoice(world);
const PEOPLE = 2_500;

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

const tickets = Array.from({ length: PEOPLE }, (_, i) => voice.tickets(i));

describe('voice of the customer on the demo world', () => {
  it("computed sentiment follows each person's latent satisfaction", () => {
    const satisfaction: number[] = [];
    const sentiment: number[] = [];
    let foreign = 0;
    for (let i = 0; i < PEOPLE; i++) {
      const scores: number[] = [];
      for (const ticket of tickets[i]!)
        for (const message of ticket.messages) {
          if (message.author !== 'customer') continue;
          const { score, language } = scoreMessage(message.text);
          if (ticket.language !== 'en') {
            expect(score, message.text).toBeNull();
            expect(language).toBe(ticket.language);
            foreign++;
          } else if (score !== null) scores.push(score);
        }
      if (scores.length === 0) continue;
      satisfaction.push(voice.satisfaction(i));
      sentiment.push(scores.reduce((s, x) => s + x, 0) / scores.length);
    }
    const r = pearson(satisfaction, sentiment);
    console.info(`sentiment vs latent satisfaction: r = ${r.toFixed(3)} over ${satisfaction.length} people`);
    // The world writes each message in one of five tones from satisfaction plus noise (σ 0.25), around a problem
    // statement of neutral words, so even a perfect reader of tone is short of r = 1; a scorer that only counted
    // problem words would sit near 0. Below 0.75 the scorer would be missing tone that a reader sees.
    expect(r).toBeGreaterThan(0.75);
    expect(foreign).toBeGreaterThan(0);
  });

  it('NPS answers follow satisfaction, and kept text is redacted', () => {
    const satisfaction: number[] = [];
    const nps: number[] = [];
    let redacted = 0;
    for (let i = 0; i < PEOPLE; i++) {
      for (const survey of voice.surveys(i))
        if (survey.kind === 'nps') {
          satisfaction.push(voice.satisfaction(i));
          nps.push(survey.score);
        }
      for (const ticket of tickets[i]!) {
        const text = redactText(ticket.messages[0]!.text);
        expect(text).not.toMatch(/@example\.com|4242 4242|555 \d{4}/);
        if (text.includes('[')) redacted++;
      }
    }
    expect(pearson(satisfaction, nps)).toBeGreaterThan(0.75);
    expect(redacted).toBeGreaterThan(0);
  });

  it("the topic model recovers the world's ticket topics", () => {
    const texts: string[] = [];
    const truth: number[] = [];
    for (const list of tickets)
      for (const ticket of list) {
        if (ticket.language !== 'en') continue;
        texts.push(`${ticket.subject}. ${ticket.messages[0]!.text}`);
        truth.push(WORLD_TOPICS.indexOf(ticket.topic));
      }
    const { model, labels } = fitTopics(texts, { topics: 'auto', seed: 1 });
    const ari = adjustedRandIndex(labels, truth);
    console.info(`topics: ${model.topics.map((t) => t.name).join(' | ')}; adjusted Rand index ${ari.toFixed(3)}`);
    expect(model.topics).toHaveLength(WORLD_TOPICS.length);
    expect(ari).toBeGreaterThan(0.9);
  });
});
