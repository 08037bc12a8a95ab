/**
 * Topics of tickets: a sparse TF-IDF matrix over a capped vocabulary (sublinear tf, smoothed idf, rows L2-normalised,
 * as scikit-learn's TfidfVectorizer), reduced by truncated SVD (latent semantic analysis), rows normalised again, then
 * k-means (core/models) with k given or chosen by the mean silhouette. The model is fitted on a seeded sample
 * (50,000 messages by default) and every message is tagged by projecting it onto the same components and taking the
 * nearest centre, so a million messages never meet as a dense matrix. Each topic is named by its top terms
 * (“refund · invoice · charged”); the config may pin a name to any topic through one of its top terms.
 */
import { automaticK, kMeans, sampleIndices, type KMeansResult, type Matrix } from '../models/kmeans/index.js';
import { truncatedSvd, type SparseRows } from './sparse.js';

const STOPWORDS = new Set(
  (
    'the and for you your are but not was were this that with have has had from they them their there then than ' +
    'what when where which who will would could should can cant did does doesnt dont didnt isnt wasnt its just ' +
    'been being also into onto about again after before over under very really much more most some any all our ' +
    'out off get got how why here him her his she hers ours itself myself yourself please thanks thank hello dear ' +
    'team hi hey one two still even now yet only too let lets ive youre im were weve thats tried trying try ' +
    'cannot says goes since every need want like would shows show keeps keep does'
  ).split(' '),
);
const TOKEN = /[a-z][a-z']+/g;

/**
 * The terms of a message as topics read them: lower-case words of three letters or more, stopwords, possessives and
 * a plural `s` removed.
 * @example
 * topicTerms('The invoices were charged twice!'); // ['invoice', 'charged', 'twice']
 */
export function topicTerms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().match(TOKEN) ?? []) {
    let word = raw.replace(/'s$/, '').replace(/'/g, '');
    if (/(?:ch|sh|x|ss)es$/.test(word)) word = word.slice(0, -2);
    else if (word.length > 4 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us'))
      word = word.slice(0, -1);
    if (word.length < 3 || STOPWORDS.has(word)) continue;
    out.push(word);
  }
  return out;
}

export interface TopicOptions {
  /** Number of topics, or `auto` (2–12: the fewest within 2% of the best mean silhouette). Default `auto`. */
  topics?: number | 'auto';
  /** SVD dimensions (default 20, at most topics × 3 when topics is a number). */
  dimensions?: number;
  /** Vocabulary cap: the terms in most messages of the sample (default 10,000). */
  maxTerms?: number;
  /** A term must appear in at least this many sampled messages (default 2). */
  minMessages?: number;
  /** Messages the model is fitted on (default 50,000). */
  sample?: number;
  seed?: number;
  /** Pinned names: a topic whose top terms include the key (or whose generated name is the key) gets the value. */
  names?: Record<string, string>;
}

export interface Topic {
  id: number;
  name: string;
  /** The name built from the top terms, before any pinned name. */
  generatedName: string;
  terms: string[];
  /** Messages tagged with this topic. */
  size: number;
}

export interface TopicModel {
  vocabulary: string[];
  idf: Float64Array;
  /** dimensions × vocabulary, row-major. */
  components: Float64Array;
  dimensions: number;
  /** topics × dimensions, row-major. */
  centroids: Float64Array;
  topics: Topic[];
}

export interface TopicFit {
  model: TopicModel;
  /** Topic id per message, -1 for a message with no known term. */
  labels: Int32Array;
}

/**
 * Finds topics in `messages` and tags each message with one.
 * @example
 * const { model, labels } = fitTopics(tickets.map((t) => t.text), { topics: 'auto', seed: 1 });
 * model.topics.map((t) => t.name); // ['refund · invoice · charged', …]
 */
export function fitTopics(messages: readonly string[], options: TopicOptions = {}): TopicFit {
  const seed = options.seed ?? 1;
  const sampleRows = sampleIndices(messages.length, options.sample ?? 50_000, seed);
  const sampled = Array.from(sampleRows, (i) => topicTerms(messages[i]!));
  const { vocabulary, idf } = buildVocabulary(sampled, options.maxTerms ?? 10_000, options.minMessages ?? 2);
  if (vocabulary.length < 2) throw new Error(`topics need at least 2 terms in 2 messages, found ${vocabulary.length}`);
  const index = new Map(vocabulary.map((term, i) => [term, i]));
  const tfidf = sparseTfidf(sampled, index, idf);
  const topicsWanted = options.topics ?? 'auto';
  const dimensions = Math.min(
    options.dimensions ?? (typeof topicsWanted === 'number' ? Math.max(2, Math.min(20, topicsWanted * 3)) : 20),
    vocabulary.length - 1,
  );
  const svd = truncatedSvd(tfidf, { dimensions, seed });
  const embedded = embedRows(tfidf, svd.components, svd.dimensions);
  const present = { values: new Float64Array(0), rows: 0, features: svd.dimensions };
  const keep: number[] = [];
  for (let i = 0; i < tfidf.rows; i++) if (tfidf.offsets[i + 1]! > tfidf.offsets[i]!) keep.push(i);
  present.values = new Float64Array(keep.length * svd.dimensions);
  present.rows = keep.length;
  keep.forEach((row, i) =>
    present.values.set(embedded.subarray(row * svd.dimensions, (row + 1) * svd.dimensions), i * svd.dimensions),
  );
  const clustering: KMeansResult =
    topicsWanted === 'auto' ? silhouetteFit(present, seed) : kMeans(present, { k: topicsWanted, seed });
  const model: TopicModel = {
    vocabulary,
    idf,
    components: svd.components,
    dimensions: svd.dimensions,
    centroids: clustering.centroids,
    topics: [],
  };
  const labels = new Int32Array(messages.length);
  const weights = new Float64Array(clustering.k * vocabulary.length);
  const sizes = new Int32Array(clustering.k);
  for (let i = 0; i < messages.length; i++) {
    const terms = topicTerms(messages[i]!);
    const label = tagTerms(model, terms, index, clustering.k);
    labels[i] = label;
    if (label < 0) continue;
    sizes[label]!++;
    const row = tfidfRow(terms, index, idf);
    for (const [term, weight] of row) weights[label * vocabulary.length + term]! += weight;
  }
  model.topics = nameTopics(weights, sizes, vocabulary, options.names ?? {});
  return { model, labels };
}

/**
 * The topic of one message under a fitted model (-1 when none of its terms is in the vocabulary).
 * @example
 * tagTopic(model, 'I was charged twice for one invoice'); // 0
 */
export function tagTopic(model: TopicModel, message: string): number {
  const index = new Map(model.vocabulary.map((term, i) => [term, i]));
  return tagTerms(model, topicTerms(message), index, model.topics.length || model.centroids.length / model.dimensions);
}

function tagTerms(model: TopicModel, terms: string[], index: Map<string, number>, k: number): number {
  const row = tfidfRow(terms, index, model.idf);
  if (row.size === 0) return -1;
  const d = model.dimensions;
  const v = model.vocabulary.length;
  const point = new Float64Array(d);
  for (const [term, weight] of row) for (let c = 0; c < d; c++) point[c]! += weight * model.components[c * v + term]!;
  normalise(point, 0, d);
  let best = -1;
  let bestDistance = Infinity;
  for (let t = 0; t < k; t++) {
    let distance = 0;
    for (let c = 0; c < d; c++) distance += (point[c]! - model.centroids[t * d + c]!) ** 2;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = t;
    }
  }
  return best;
}

// Calinski–Harabasz, the default of clustering models, keeps splitting LSA topics into their sub-themes (it grows with
// k on text); the silhouette prefers the coarser themes people name tickets by. Neighbouring k often tie on it (a
// theme split in two scores about the same), so the smallest k within 2% of the best silhouette is taken.
function silhouetteFit(matrix: Matrix, seed: number): KMeansResult {
  const { model, sweep } = automaticK(matrix, { minK: 2, maxK: Math.min(12, matrix.rows - 1), seed, nInit: 3 });
  const best = Math.max(...sweep.map((point) => point.silhouette));
  const k = sweep.find((point) => point.silhouette >= best - 0.02 * Math.abs(best))!.k;
  return k === model.k ? model : kMeans(matrix, { k, seed });
}

function buildVocabulary(
  documents: string[][],
  maxTerms: number,
  minMessages: number,
): { vocabulary: string[]; idf: Float64Array } {
  const df = new Map<string, number>();
  for (const terms of documents) for (const term of new Set(terms)) df.set(term, (df.get(term) ?? 0) + 1);
  const kept = [...df].filter(([, n]) => n >= minMessages);
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const vocabulary = kept.slice(0, maxTerms).map(([term]) => term);
  const n = documents.length;
  const idf = Float64Array.from(vocabulary, (term) => Math.log((1 + n) / (1 + (df.get(term) ?? 0))) + 1);
  return { vocabulary, idf };
}

/** Term → weight for one message: (1 + ln tf) × idf, L2-normalised. */
function tfidfRow(terms: string[], index: Map<string, number>, idf: Float64Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const term of terms) {
    const id = index.get(term);
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  let norm = 0;
  for (const [id, count] of counts) {
    const weight = (1 + Math.log(count)) * idf[id]!;
    counts.set(id, weight);
    norm += weight * weight;
  }
  norm = Math.sqrt(norm);
  for (const [id, weight] of counts) counts.set(id, weight / norm);
  return counts;
}

function sparseTfidf(documents: string[][], index: Map<string, number>, idf: Float64Array): SparseRows {
  const offsets = new Int32Array(documents.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  documents.forEach((terms, i) => {
    const row = [...tfidfRow(terms, index, idf)].sort((a, b) => a[0] - b[0]);
    for (const [id, weight] of row) {
      indices.push(id);
      values.push(weight);
    }
    offsets[i + 1] = indices.length;
  });
  return {
    rows: documents.length,
    columns: idf.length,
    offsets,
    indices: Int32Array.from(indices),
    values: Float64Array.from(values),
  };
}

function embedRows(a: SparseRows, components: Float64Array, d: number): Float64Array {
  const out = new Float64Array(a.rows * d);
  for (let i = 0; i < a.rows; i++) {
    for (let e = a.offsets[i]!; e < a.offsets[i + 1]!; e++)
      for (let c = 0; c < d; c++) out[i * d + c]! += a.values[e]! * components[c * a.columns + a.indices[e]!]!;
    normalise(out, i * d, d);
  }
  return out;
}

function normalise(values: Float64Array, start: number, length: number): void {
  let norm = 0;
  for (let c = start; c < start + length; c++) norm += values[c]! ** 2;
  if (norm === 0) return;
  norm = Math.sqrt(norm);
  for (let c = start; c < start + length; c++) values[c]! /= norm;
}

function nameTopics(
  weights: Float64Array,
  sizes: Int32Array,
  vocabulary: string[],
  pins: Record<string, string>,
): Topic[] {
  const v = vocabulary.length;
  const topics: Topic[] = [];
  for (let t = 0; t < sizes.length; t++) {
    const order = Array.from({ length: v }, (_, j) => j)
      .filter((j) => weights[t * v + j]! > 0)
      .sort((a, b) => weights[t * v + b]! - weights[t * v + a]!)
      .slice(0, 5);
    const terms = order.map((j) => vocabulary[j]!);
    const generatedName = terms.slice(0, 3).join(' · ') || `topic ${t + 1}`;
    const pinned =
      pins[generatedName] ??
      terms
        .slice(0, 3)
        .map((term) => pins[term])
        .find((name) => name !== undefined);
    topics.push({ id: t, name: pinned ?? generatedName, generatedName, terms, size: sizes[t]! });
  }
  return topics;
}

/**
 * Adjusted Rand index of two labelings (Hubert & Arabie): 1 for identical partitions, about 0 for chance.
 * @example
 * adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]); // 1
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const table = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]}:${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(a[i]!, (rows.get(a[i]!) ?? 0) + 1);
    cols.set(b[i]!, (cols.get(b[i]!) ?? 0) + 1);
  }
  const pairs = (x: number): number => (x * (x - 1)) / 2;
  let index = 0;
  for (const x of table.values()) index += pairs(x);
  let rowSum = 0;
  for (const x of rows.values()) rowSum += pairs(x);
  let colSum = 0;
  for (const x of cols.values()) colSum += pairs(x);
  const expected = (rowSum * colSum) / pairs(n);
  const max = (rowSum + colSum) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}
