// The tracking API's conventions for what customers write: Segment's "Survey Responded" track is a survey answer
// (NPS by default, its score as the value), and a track carrying a text property named in `text.track_properties` is
// a support message with that text; without the setting such a track stays a custom event.
import { describe, expect, it } from 'vitest';
import { textSchema } from '../../config/schema.js';
import type { EventRecord } from '../../plugins/index.js';
import { mapMessage } from '../../server/ingest/segment-spec.js';

const at = new Date('2026-11-02T10:00:00.000Z');
const eventOf = (message: Record<string, unknown>, textProperties?: string[]): EventRecord => {
  const mapped = mapMessage({ type: 'track', userId: 'u-42', ...message }, 'website', at, {
    ...(textProperties ? { textProperties } : {}),
  });
  if (!mapped.ok) throw new Error(mapped.reason);
  return mapped.records[0] as EventRecord;
};

describe('tracking conventions for the voice of the customer', () => {
  it('reads "Survey Responded" as an NPS answer with its score and comment', () => {
    const event = eventOf({ event: 'Survey Responded', properties: { score: 9, comment: 'Great support!' } });
    expect(event.type).toBe('survey_response');
    expect(event.value).toBe(9);
    expect(event.properties).toMatchObject({ kind: 'nps', score: 9, comment: 'Great support!' });
  });

  it('reads a CSAT survey named by survey_type, and an nps property as the score', () => {
    expect(
      eventOf({ event: 'survey responded', properties: { survey_type: 'CSAT', rating: '4' } }).properties,
    ).toMatchObject({ kind: 'csat', score: 4, comment: null });
    expect(eventOf({ event: 'Survey Responded', properties: { nps: 3 } }).properties).toMatchObject({
      kind: 'nps',
      score: 3,
    });
  });

  it('makes a track with a configured text property a support message, keeping its name', () => {
    const event = eventOf({ event: 'Chat Message Sent', properties: { comment: 'The export still fails.' } }, [
      'comment',
    ]);
    expect(event.type).toBe('support_message');
    expect(event.properties).toMatchObject({ name: 'Chat Message Sent', text: 'The export still fails.' });
  });

  it('takes a survey comment from a configured text property', () => {
    const event = eventOf({ event: 'Survey Responded', properties: { score: 2, feedback: 'Too slow.' } }, ['feedback']);
    expect(event.properties).toMatchObject({ kind: 'nps', score: 2, comment: 'Too slow.' });
  });

  it('leaves a track custom without the setting, or when the property is empty', () => {
    expect(eventOf({ event: 'Chat Message Sent', properties: { comment: 'Hello' } }).type).toBe('custom');
    expect(eventOf({ event: 'Chat Message Sent', properties: { comment: ' ' } }, ['comment']).type).toBe('custom');
  });

  it('accepts text.track_properties in the config, empty by default', () => {
    expect(textSchema.parse({}).track_properties).toEqual([]);
    expect(textSchema.parse({ track_properties: ['comment'] }).track_properties).toEqual(['comment']);
  });
});
