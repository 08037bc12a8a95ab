// How the console writes sentiment and NPS for a marketer (the Voice page and a contact's page): signed figures with
// a real minus sign, and sentiment in words beside its score.
import { number } from './console.js';

const MINUS = '\u2212';

/** A signed figure: +0.42, −0.21, 0.00 (two digits by default); +23, −15, 0 with no digits. */
export function signed(value, digits = 2) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  const text = number(Math.abs(value), digits);
  return Number(text.replace(/,/g, '')) === 0 ? text : `${value > 0 ? '+' : MINUS}${text}`;
}

/** Sentiment in words and figure, "negative (−0.21)", on VADER's customary ±0.05 thresholds. */
export function sentimentWords(value) {
  if (value === undefined || value === null) return '—';
  const word = value >= 0.05 ? 'positive' : value <= -0.05 ? 'negative' : 'neutral';
  return `${word} (${signed(value)})`;
}

/** An NPS (−100 to 100) as a signed whole number. */
export function nps(value) {
  return value === null || value === undefined ? '—' : signed(value, 0);
}
