// Predictions: the customers it costs most to lose (churn risk × lifetime value), and the distributions of churn risk
// and customer lifetime value of a churn model's last run as histograms of the bins the API computes; clicking a bar
// (or its button below the chart) lists its people, and "make a segment from this" opens the builder on that range.
import { api, chart, el, fill, load, money, number, percent, picker, query, remember, status } from './console.js';
import { peopleTable, showPeople } from './people.js';

/** A bin's edge as a rule writes it: no float noise (0.15000000000000002 → 0.15). */
const edge = (v) => Number(v.toPrecision(12));

const PREDICTIVE = new Set(['churn', 'bgnbd', 'mbgnbd']);

load(async () => {
  const { models } = await api('/models');
  const predictive = models.filter((m) => PREDICTIVE.has(m.kind));
  if (predictive.length === 0) {
    fill(
      'prediction-summary',
      el('span', {}, 'No churn model has run yet (add a model of kind churn under models: and run a job).'),
    );
    return;
  }
  const wanted = query('model');
  const known = wanted === null || predictive.some((m) => m.name === wanted);
  const options = predictive.map((m) => ({ value: m.name, label: m.name }));
  if (!known) options.unshift({ value: '', label: 'Choose a model' });
  const shown = picker('model-name', options, known ? (wanted ?? predictive[0].name) : '', (name) => {
    remember('model', name);
    show(name).catch((error) => status(error.message, 'error'));
  });
  if (known) await show(shown);
  else
    fill(
      'prediction-summary',
      el('span', { class: 'alert bad', role: 'alert' }, `There is no churn model "${wanted}". Choose one above.`),
    );
});

async function show(name) {
  const model = await api(`/models/${encodeURIComponent(name)}`);
  if (!model.run) {
    fill('prediction-summary', `No run of ${name} is recorded yet: its distributions appear after a job computes it.`);
    histogramChart('risk-chart', undefined, 'contacts by churn risk (1 − P(alive))', '#dc2626');
    histogramChart('clv-chart', undefined, `contacts by CLV (${model.currency})`, '#059669');
    return;
  }
  const metrics = model.run.metrics ?? {};
  const distributions = model.distributions ?? {};
  fill(
    'prediction-summary',
    `${number(metrics.customers)} customers scored with ${metrics.model ?? 'BG/NBD'}`,
    metrics.reason ? ` (${metrics.reason})` : '',
    `. Mean P(alive) ${percent(metrics.meanProbabilityAlive)}; churn risk above 70%: ${number(metrics.atRisk?.above70)}.`,
    metrics.totalClv !== null && metrics.totalClv !== undefined
      ? ` Total CLV over ${metrics.clvHorizonDays} days: ${money(metrics.totalClv, model.currency)}.`
      : '',
    metrics.spendWarning ? ` ${metrics.spendWarning}` : '',
  );
  const ranked = await api(`/models/${encodeURIComponent(name)}/people?output=risk&per_page=10`);
  fill(
    'ranked-people',
    peopleTable(ranked, model.currency, `The top ${number(ranked.people.length)} of ${number(ranked.total)}`),
  );
  const pick = (output, words, format) => (bins, i) => {
    const bin = bins[i];
    const last = i === bins.length - 1;
    const from = edge(bin.from);
    const to = edge(bin.to);
    const subject = `${name}.${output}`;
    const rule = last
      ? { model: subject, between: [from, to] }
      : {
          all: [
            { model: subject, gte: from },
            { model: subject, lt: to },
          ],
        };
    showPeople(
      name,
      { output, from: String(from), to: String(to), ...(last ? { to_inclusive: 'true' } : {}) },
      {
        title: `${words} ${format(bin.from)}–${format(bin.to)}`,
        rule,
        name: `${words} ${format(bin.from)}–${format(bin.to)}`,
        currency: model.currency,
      },
    ).catch((error) => status(error.message, 'error'));
  };
  histogramChart(
    'risk-chart',
    distributions.risk,
    'contacts by churn risk (1 − P(alive))',
    '#dc2626',
    (v) => percent(v),
    pick('risk', 'Churn risk', (v) => percent(v)),
  );
  histogramChart(
    'clv-chart',
    distributions.clv,
    `contacts by CLV over ${metrics.clvHorizonDays ?? '—'} days (${model.currency})`,
    '#059669',
    (v) => money(v, model.currency),
    pick('clv', 'Lifetime value', (v) => money(v, model.currency)),
  );
}

/**
 * A bar per bin; labels are the bins' ranges, in the output's unit (a share, an amount of money). Clicking a bar, or
 * its button under the chart (for the keyboard), calls `onPick(bins, index)`.
 */
function histogramChart(id, distribution, title, colour, format = (v) => number(v, 2), onPick) {
  const bins = distribution?.bins ?? [];
  const buttons = id.replace('-chart', '-bins');
  if (onPick && document.getElementById(buttons))
    fill(
      buttons,
      bins.flatMap((b, i) => {
        if (b.contacts === 0) return [];
        const node = el(
          'button',
          { type: 'button', class: 'secondary', id: `${buttons}-${i}` },
          `${format(b.from)}–${format(b.to)}: ${number(b.contacts)}`,
        );
        node.addEventListener('click', () => onPick(bins, i));
        return [node];
      }),
    );
  chart(id, {
    type: 'bar',
    data: {
      labels: bins.map((b) => `${format(b.from)}–${format(b.to)}`),
      datasets: [
        {
          label: title,
          data: bins.map((b) => b.contacts),
          backgroundColor: colour,
          barPercentage: 1,
          categoryPercentage: 1,
        },
      ],
    },
    options: {
      onClick: (_event, elements) => {
        if (onPick && elements.length > 0) onPick(bins, elements[0].index);
      },
      onHover: (event, elements) => {
        event.native.target.style.cursor = onPick && elements.length > 0 ? 'pointer' : 'default';
      },
      plugins: { legend: { display: false }, title: { display: true, text: title } },
      scales: {
        x: { ticks: { maxRotation: 60, autoSkip: true } },
        y: { beginAtZero: true, title: { display: true, text: 'contacts' } },
      },
    },
  });
}
