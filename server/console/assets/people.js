// People a model scored, as the predictions and clustering pages list them: ranked by churn risk × lifetime value,
// each linked to their contact page, a page at a time, with "make a segment from this" opening the builder with the
// condition filled in.
import { api, el, fill, money, number, percent, status, table } from './console.js';

const PER_PAGE = 20;

/** The builder, opened on a new segment with this rule (and a suggested name) filled in. */
export function builderLink(rule, name) {
  const params = new window.URLSearchParams({ rule: JSON.stringify(rule), name });
  return `/console/builder?${params}`;
}

/** A table of scored people: contact (linked), churn risk, lifetime value, and what is at stake. */
export function peopleTable(answer, currency, caption) {
  return table(
    [
      {
        label: 'Contact',
        value: (p) =>
          p.email
            ? el('a', { href: `/console/contacts?email=${encodeURIComponent(p.email)}` }, p.email)
            : `contact #${p.contactId}`,
      },
      { label: 'Name', value: (p) => [p.firstName, p.lastName].filter(Boolean).join(' ') || null },
      { label: 'Churn risk', value: (p) => (p.risk === null ? null : percent(p.risk)), numeric: true },
      { label: 'Lifetime value', value: (p) => (p.clv === null ? null : money(p.clv, currency)), numeric: true },
      { label: 'At stake', value: (p) => (p.atStake === null ? null : money(p.atStake, currency)), numeric: true },
    ],
    answer.people,
    { caption, empty: 'Nobody here.' },
  );
}

/**
 * Lists, in the page's "bin" section, the people of a model whose output matches `filter` (`output`, `from`, `to`,
 * `to_inclusive`, `label`), with a link that opens the builder on `rule`.
 */
export async function showPeople(model, filter, { title, rule, name, currency }, page = 1) {
  const params = new window.URLSearchParams({ ...filter, page: String(page), per_page: String(PER_PAGE) });
  const answer = await api(`/models/${encodeURIComponent(model)}/people?${params}`);
  const section = document.getElementById('bin');
  section.hidden = false;
  section.dataset.total = String(answer.total);
  fill('bin-title', title);
  fill(
    'bin-actions',
    el(
      'a',
      { href: builderLink(rule, name), class: 'button secondary', id: 'make-segment' },
      'Make a segment from this',
    ),
  );
  fill(
    'bin-people',
    peopleTable(
      answer,
      currency,
      `${number(answer.total)} ${answer.total === 1 ? 'person' : 'people'}, the costliest to lose first; page ${answer.page} of ${answer.pages}`,
    ),
  );
  const pager = [];
  const go = (to) => () =>
    showPeople(model, filter, { title, rule, name, currency }, to).catch((error) => status(error.message, 'error'));
  if (page > 1) pager.push(button('Previous page', go(page - 1)));
  if (page < answer.pages) pager.push(button('Next page', go(page + 1)));
  fill('bin-pager', pager);
  return answer;
}

function button(label, onClick) {
  const node = el('button', { type: 'button', class: 'secondary' }, label);
  node.addEventListener('click', onClick);
  return node;
}
