/**
 * Voice of the customer: what customers write (tickets, support messages, survey comments) turned into numbers the
 * rest of segflow segments on — a sentiment score per message (VADER), the message's language, redaction of kept
 * text, and topics found in the tickets (sparse TF-IDF, truncated SVD, k-means) — and, in store.ts, the analysis of
 * the store's text events and the per-contact voice features rules read (`contact_voice`); in views.ts, what the
 * console reads of them.
 */
export * from './language.js';
export * from './sentiment.js';
export * from './redact.js';
export * from './sparse.js';
export * from './topics.js';
export * from './migrations.js';
export * from './store.js';
export * from './views.js';
