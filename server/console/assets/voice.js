// The voice of the customer: the topics of the tickets with their size, sentiment and example messages (redacted, and
// only when the config keeps text); sentiment and NPS per segment; tickets, sentiment and NPS month by month. From a
// topic, its people (each linked to their contact page) with "make a segment from this"; from a segment's row, its
// members on the segment page.
import { api, chart, el, fill, load, number, percent, PALETTE, status, table, when } from './console.js';
import { builderLink } from './people.js';
import { nps, sentimentWords } from './sentiment.js';

const PER_PAGE = 20;
const plural = (n, one, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;

load(async () => {
  const [topics, segments, trend] = await Promise.all([
    api('/voice/topics'),
    api('/voice/segments'),
    api('/voice/trend'),
  ]);
  summary(topics);
  showTopics(topics);
  showSegments(segments.segments);
  showTrend(trend.months);
});

function summary(answer) {
  const { promoter, passive, detractor } = answer.nps;
  const answered = promoter + passive + detractor;
  fill(
    'voice-summary',
    answer.scored === 0
      ? 'No message has been scored yet: tickets, support messages and survey comments are scored when a job computes.'
      : `${plural(answer.scored, 'message')} scored, mean sentiment ${sentimentWords(answer.meanSentiment)}. `,
    answered > 0
      ? `Latest NPS answer per contact: ${number(promoter)} promoters, ${number(passive)} passives, ${number(detractor)} detractors (NPS ${nps(Math.round((100 * (promoter - detractor)) / answered))}).`
      : 'No NPS answer yet.',
  );
}

function showTopics(answer) {
  if (answer.topics.length === 0) {
    fill(
      'voice-topics',
      el(
        'p',
        { class: 'empty' },
        answer.topicsConfigured
          ? 'No ticket has been tagged with a topic yet: topics are found when a job computes over at least 20 new tickets.'
          : 'Topics are not configured: add text: { topics: {} } to the config to find the themes of the tickets.',
      ),
    );
    return;
  }
  fill(
    'voice-topics-hint',
    answer.textKept
      ? 'Examples are the latest tickets of each topic, with emails, phone numbers and card numbers redacted.'
      : 'Only the derived sentiment and topic are kept (the config does not keep text), so there are no example messages.',
  );
  fill(
    'voice-topics',
    answer.topics.map((t, i) =>
      el(
        'article',
        { class: 'card topic', 'aria-label': `Topic ${t.topic}`, 'data-topic': t.topic },
        el('h3', {}, t.topic),
        el(
          'p',
          { class: 'hint' },
          `${plural(t.tickets, 'ticket')} from ${plural(t.people, 'person', 'people')} · last on ${when(t.lastAt)}`,
        ),
        el(
          'p',
          { class: 'topic-sentiment' },
          `Sentiment ${sentimentWords(t.sentiment)}`,
          t.negativeShare === null ? '' : ` · ${percent(t.negativeShare)} of its tickets negative`,
        ),
        t.examples.length
          ? el(
              'ul',
              { class: 'sample examples' },
              t.examples.map((text) => el('li', {}, el('q', {}, text))),
            )
          : null,
        el('p', { class: 'actions' }, peopleButton(t, i)),
      ),
    ),
  );
}

function peopleButton(topic, index) {
  const node = el(
    'button',
    { type: 'button', class: 'secondary', id: `topic-people-${index}` },
    `People who wrote about ${topic.topic}`,
  );
  node.addEventListener('click', () => showPeople(topic.topic).catch((error) => status(error.message, 'error')));
  return node;
}

/** Lists, below the topics, the people with a ticket on the topic, with a link to the builder on that rule. */
async function showPeople(topic, page = 1) {
  const params = new window.URLSearchParams({ topic, page: String(page), per_page: String(PER_PAGE) });
  const answer = await api(`/voice/people?${params}`);
  const section = document.getElementById('bin');
  section.hidden = false;
  section.dataset.total = String(answer.total);
  fill('bin-title', `People who wrote about ${topic}`);
  fill(
    'bin-actions',
    el(
      'a',
      { href: builderLink(answer.rule, `Wrote about ${topic}`), class: 'button secondary', id: 'make-segment' },
      'Make a segment from this',
    ),
  );
  fill(
    'bin-people',
    table(
      [
        {
          label: 'Contact',
          value: (p) =>
            p.email
              ? el('a', { href: `/console/contacts?email=${encodeURIComponent(p.email)}` }, p.email)
              : `contact #${p.contactId}`,
        },
        { label: 'Name', value: (p) => [p.firstName, p.lastName].filter(Boolean).join(' ') || null },
        { label: 'Tickets on it', value: (p) => p.tickets, numeric: true },
        { label: 'Last ticket', value: (p) => when(p.lastTicketAt) },
        { label: 'Sentiment (90 days)', value: (p) => sentimentWords(p.sentiment90d) },
        {
          label: 'Last NPS',
          value: (p) => (p.npsLast === null ? null : `${p.npsLast} (${p.npsCategory})`),
          numeric: true,
        },
      ],
      answer.people,
      {
        caption: `${plural(answer.total, 'person', 'people')}, the most tickets first; page ${answer.page} of ${answer.pages}`,
        empty: 'Nobody here.',
      },
    ),
  );
  const pager = [];
  const go = (to) => () => showPeople(topic, to).catch((error) => status(error.message, 'error'));
  if (page > 1) pager.push(button('Previous page', go(page - 1)));
  if (page < answer.pages) pager.push(button('Next page', go(page + 1)));
  fill('bin-pager', pager);
  section.scrollIntoView({ block: 'start' });
}

function button(label, onClick) {
  const node = el('button', { type: 'button', class: 'secondary' }, label);
  node.addEventListener('click', onClick);
  return node;
}

function showSegments(segments) {
  fill(
    'voice-segments',
    table(
      [
        {
          label: 'Segment',
          value: (s) => el('a', { href: `/console/segment?key=${encodeURIComponent(s.segment)}` }, s.name),
        },
        { label: 'Members', value: (s) => s.members, numeric: true },
        {
          label: 'Answered NPS',
          value: (s) => (s.members ? `${number(s.answered)} (${percent(s.answered / s.members)})` : null),
          numeric: true,
        },
        {
          label: 'Promoters · passives · detractors',
          value: (s) =>
            s.answered ? `${number(s.promoters)} · ${number(s.passives)} · ${number(s.detractors)}` : null,
          numeric: true,
        },
        { label: 'NPS', value: (s) => nps(s.nps), numeric: true },
        { label: 'Sentiment (90 days)', value: (s) => sentimentWords(s.sentiment) },
      ],
      segments,
      {
        caption: 'Current members; NPS is percent promoters minus percent detractors among those who answered',
        empty: 'No segment has members yet.',
      },
    ),
  );
}

function showTrend(months) {
  chart('trend-chart', {
    type: 'line',
    data: {
      labels: months.map((m) => m.month),
      datasets: [
        {
          label: 'mean sentiment (−1 to 1)',
          data: months.map((m) => m.sentiment),
          borderColor: PALETTE[0],
          backgroundColor: PALETTE[0],
          yAxisID: 'sentiment',
          spanGaps: true,
        },
        {
          label: 'NPS (−100 to 100)',
          data: months.map((m) => m.nps),
          borderColor: PALETTE[1],
          backgroundColor: PALETTE[1],
          yAxisID: 'nps',
          spanGaps: true,
        },
      ],
    },
    options: {
      plugins: { title: { display: true, text: 'Sentiment and NPS per month' } },
      scales: {
        sentiment: { type: 'linear', position: 'left', min: -1, max: 1, title: { display: true, text: 'sentiment' } },
        nps: {
          type: 'linear',
          position: 'right',
          min: -100,
          max: 100,
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'NPS' },
        },
      },
    },
  });
  fill(
    'voice-trend',
    table(
      [
        { label: 'Month', value: (m) => m.month },
        { label: 'Tickets', value: (m) => m.tickets, numeric: true },
        { label: 'Messages scored', value: (m) => m.scored, numeric: true },
        { label: 'Sentiment', value: (m) => sentimentWords(m.sentiment) },
        { label: 'NPS answers', value: (m) => m.npsAnswers, numeric: true },
        { label: 'NPS', value: (m) => nps(m.nps), numeric: true },
      ],
      [...months].reverse(),
      { caption: 'The latest month first', empty: 'Nothing written or answered yet.' },
    ),
  );
}
