// Predictions: the distributions of churn risk and customer lifetime value of a churn model's last run, as
// histograms of the bins the API computes.
import { api, chart, el, fill, load, money, number, percent, picker, query, remember, status } from './console.js';

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
  histogramChart('risk-chart', distributions.risk, 'contacts by churn risk (1 − P(alive))', '#dc2626', (v) =>
    percent(v),
  );
  histogramChart(
    'clv-chart',
    distributions.clv,
    `contacts by CLV over ${metrics.clvHorizonDays ?? '—'} days (${model.currency})`,
    '#059669',
    (v) => money(v, model.currency),
  );
}

/** A bar per bin; labels are the bins' ranges, in the output's unit (a share, an amount of money). */
function histogramChart(id, distribution, title, colour, format = (v) => number(v, 2)) {
  const bins = distribution?.bins ?? [];
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
      plugins: { legend: { display: false }, title: { display: true, text: title } },
      scales: {
        x: { ticks: { maxRotation: 60, autoSkip: true } },
        y: { beginAtZero: true, title: { display: true, text: 'contacts' } },
      },
    },
  });
}
