/**
 * Sentiment of one message with VADER (Hutto & Gilbert, ICWSM 2014) through the `vader-sentiment` npm port, which
 * reproduces the published example scores of vaderSentiment 2.5 (PyPI, December 2016) exactly: negation (“not
 * great”, “isn't horrible”), boosters and dampeners (“very”, “kind of”), ALL-CAPS and “!!!” emphasis, the contrastive
 * “but”, emoticons and slang. It differs from vaderSentiment 3.3 on three points, pinned in the reference test:
 * no emoji lexicon (3.0), no “at all” negation rule (3.2) and the 2.5 lexicon (“lol” 1.8, not 2.9).
 *
 * A message is split into sentences and its score is the mean of their compound scores, as VADER's authors advise
 * for text longer than a sentence. Messages not in English are marked and left unscored.
 */
import vader from 'vader-sentiment';
import { detectLanguage, type MessageLanguage } from './language.js';

/** The reference implementation the scores follow. */
export const SENTIMENT_REFERENCE = 'vaderSentiment 2.5 (npm vader-sentiment 1.1.3)';

/** VADER's customary thresholds on the compound score. */
export const POSITIVE_FROM = 0.05;
export const NEGATIVE_TO = -0.05;

export interface PolarityScores {
  neg: number;
  neu: number;
  pos: number;
  /** Normalised weighted sum of valences, in [-1, 1]. */
  compound: number;
}

export type SentimentLabel = 'positive' | 'neutral' | 'negative';

export interface MessageSentiment {
  language: MessageLanguage;
  /** Mean compound score of the message's sentences; null when the message is not English or has no words. */
  score: number | null;
  label: SentimentLabel | null;
}

/**
 * VADER's scores for one sentence, as the reference prints them.
 * @example
 * polarityScores('The book was good.'); // { neg: 0, neu: 0.508, pos: 0.492, compound: 0.4404 }
 */
export function polarityScores(sentence: string): PolarityScores {
  const { neg, neu, pos, compound } = vader.SentimentIntensityAnalyzer.polarity_scores(sentence);
  return { neg, neu, pos, compound };
}

const SENTENCE_END = /(?<=[.!?])\s+(?=\S)|\n+/;

/**
 * The sentiment of one support message, ticket or survey comment.
 * @example
 * scoreMessage('Still not fixed. I am really disappointed!'); // { language: 'en', score: -0.2848, label: 'negative' }
 */
export function scoreMessage(text: string): MessageSentiment {
  const language = detectLanguage(text);
  if (language !== 'en') return { language, score: null, label: null };
  const sentences = text
    .split(SENTENCE_END)
    .map((sentence) => sentence.trim())
    .filter((sentence) => /\p{L}|[:;=][-']?[()DPp]/u.test(sentence));
  if (sentences.length === 0) return { language, score: null, label: null };
  let sum = 0;
  for (const sentence of sentences) sum += polarityScores(sentence).compound;
  const score = Math.round((sum / sentences.length) * 10_000) / 10_000;
  return { language, score, label: sentimentLabel(score) };
}

/**
 * @example
 * sentimentLabel(-0.3); // 'negative'
 */
export function sentimentLabel(score: number): SentimentLabel {
  if (score >= POSITIVE_FROM) return 'positive';
  if (score <= NEGATIVE_TO) return 'negative';
  return 'neutral';
}
