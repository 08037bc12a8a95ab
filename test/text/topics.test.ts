import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/models/index.js';
import { adjustedRandIndex, fitTopics, tagTopic, topicTerms, truncatedSvd } from '../../core/text/index.js';

// Three small themes written in varied words, 40 messages each.
const THEMES = [
  ['invoice', 'refund', 'charged', 'payment', 'card', 'billing'],
  ['parcel', 'courier', 'tracking', 'delivery', 'shipment', 'order'],
  ['password', 'login', 'locked', 'account', 'reset', 'signin'],
];
function corpus(): { texts: string[]; truth: number[] } {
  const texts: string[] = [];
  const truth: number[] = [];
  const rng = seededRandom(7);
  for (let i = 0; i < 120; i++) {
    const theme = i % 3;
    const words = THEMES[theme]!;
    const pick = (): string => words[rng.int(words.length)]!;
    texts.push(`Hello, ${pick()} and ${pick()} problem with my ${pick()} and ${pick()}, ${pick()}.`);
    truth.push(theme);
  }
  return { texts, truth };
}

describe('topics', () => {
  it('finds the themes of a small corpus, names them by their top terms and tags new messages', () => {
    const { texts, truth } = corpus();
    const { model, labels } = fitTopics(texts, { topics: 3, seed: 3 });
    expect(model.topics).toHaveLength(3);
    expect(adjustedRandIndex(labels, truth)).toBe(1);
    const billing = model.topics.find((t) => t.terms.includes('invoice'))!;
    expect(billing.terms.slice(0, 5).every((term) => THEMES[0]!.includes(term))).toBe(true);
    expect(billing.name).toBe(billing.terms.slice(0, 3).join(' · '));
    expect(tagTopic(model, 'My card was charged twice on one invoice')).toBe(billing.id);
    expect(tagTopic(model, 'zzz qqq')).toBe(-1);
  });

  it('keeps names pinned in the config, by a top term or by the generated name', () => {
    const { texts } = corpus();
    const first = fitTopics(texts, { topics: 3, seed: 3 }).model.topics;
    const delivery = first.find((t) => t.terms.includes('parcel'))!;
    const { model } = fitTopics(texts, {
      topics: 3,
      seed: 3,
      names: { [delivery.terms[0]!]: 'Shipping', [first.find((t) => t !== delivery)!.generatedName]: 'Other' },
    });
    const names = model.topics.map((t) => t.name);
    expect(names).toContain('Shipping');
    expect(names).toContain('Other');
  });

  it('reads terms without stopwords, possessives or plurals', () => {
    expect(topicTerms("The courier's parcels and the invoices crashes!")).toEqual([
      'courier',
      'parcel',
      'invoice',
      'crash',
    ]);
  });

  it('adjusted Rand index: 1 for the same partition under other labels, near 0 for an unrelated one', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 1, 1])).toBe(1);
    const a = Array.from({ length: 600 }, (_, i) => i % 3);
    const b = Array.from({ length: 600 }, (_, i) => Math.floor(i / 200));
    expect(Math.abs(adjustedRandIndex(a, b))).toBeLessThan(0.01);
  });

  it('truncated SVD recovers the singular values of a small sparse matrix', () => {
    // diag(3, 2, 1) padded with a zero column: singular values 3, 2, 1 and unit right vectors on the axes.
    const svd = truncatedSvd(
      {
        rows: 3,
        columns: 4,
        offsets: Int32Array.from([0, 1, 2, 3]),
        indices: Int32Array.from([0, 1, 2]),
        values: Float64Array.from([3, 2, 1]),
      },
      { dimensions: 2, seed: 1 },
    );
    expect(Array.from(svd.singularValues).map((s) => Math.round(s * 1e9) / 1e9)).toEqual([3, 2]);
    expect(Math.abs(svd.components[0]!)).toBeCloseTo(1, 9);
    expect(Math.abs(svd.components[4 + 1]!)).toBeCloseTo(1, 9);
  });
});
