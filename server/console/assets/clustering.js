// Clustering: the elbow (inertia per k) and silhouette curves of a clustering model's last run, the chosen k marked
// on both, and its cluster profiles side by side.
import {
  PALETTE,
  api,
  chart,
  el,
  fill,
  load,
  number,
  percent,
  picker,
  query,
  remember,
  status,
  table,
} from './console.js';
import { showPeople } from './people.js';

const CLUSTERING = new Set(['kmeans', 'dbscan', 'hierarchical']);
const CHOSEN = '#dc2626';

load(async () => {
  const { models } = await api('/models');
  const clustering = models.filter((m) => CLUSTERING.has(m.kind));
  if (clustering.length === 0) {
    fill(
      'cluster-profiles',
      el('p', { class: 'empty' }, 'No clustering model has run yet (add a kmeans model under models: and run a job).'),
    );
    return;
  }
  const wanted = query('model');
  const known = wanted === null || clustering.some((m) => m.name === wanted);
  const options = clustering.map((m) => ({ value: m.name, label: `${m.name} (${m.kind})` }));
  if (!known) options.unshift({ value: '', label: 'Choose a model' });
  const shown = picker('model-name', options, known ? (wanted ?? clustering[0].name) : '', (name) => {
    remember('model', name);
    show(name).catch((error) => status(error.message, 'error'));
  });
  if (known) await show(shown);
  else
    fill(
      'cluster-profiles',
      el('p', { class: 'alert bad', role: 'alert' }, `There is no clustering model "${wanted}". Choose one above.`),
    );
});

async function show(name) {
  const model = await api(`/models/${encodeURIComponent(name)}`);
  if (!model.run) {
    fill('chosen-k', `No run of ${name} is recorded yet: its curves and profiles appear after a job computes it.`);
    curve('elbow-chart', [], undefined, 'inertia', 'Inertia (within-cluster sum of squares)');
    curve('silhouette-chart', [], undefined, 'silhouette', 'Mean silhouette');
    fill('cluster-profiles', el('p', { class: 'empty' }, 'No cluster profiles yet.'));
    return;
  }
  const metrics = model.run.metrics ?? {};
  const sweep = metrics.sweep ?? [];
  const chosenK = metrics.choice?.k ?? metrics.k;
  const reasons = metrics.choice?.reasons ?? [];
  fill(
    'chosen-k',
    `k = ${chosenK ?? '—'}${metrics.algorithm ? ` (${metrics.algorithm})` : ''}. `,
    reasons.length
      ? reasons.join(' ')
      : sweep.length
        ? ''
        : 'This run fitted one k, so there is no curve to choose from.',
  );
  curve('elbow-chart', sweep, chosenK, 'inertia', 'Inertia (within-cluster sum of squares)');
  curve('silhouette-chart', sweep, chosenK, 'silhouette', 'Mean silhouette');
  profiles(metrics.profiles ?? [], model);
}

/** One line over k, the chosen k drawn as a larger red point (and named in the legend). */
function curve(id, sweep, chosenK, field, title) {
  chart(id, {
    type: 'line',
    data: {
      labels: sweep.map((p) => p.k),
      datasets: [
        {
          label: title,
          data: sweep.map((p) => p[field]),
          borderColor: PALETTE[0],
          backgroundColor: sweep.map((p) => (p.k === chosenK ? CHOSEN : PALETTE[0])),
          pointRadius: sweep.map((p) => (p.k === chosenK ? 8 : 3)),
          pointStyle: sweep.map((p) => (p.k === chosenK ? 'rectRot' : 'circle')),
        },
        {
          label: `chosen k = ${chosenK}`,
          data: sweep.map((p) => (p.k === chosenK ? p[field] : null)),
          showLine: false,
          borderColor: CHOSEN,
          backgroundColor: CHOSEN,
          pointRadius: 8,
          pointStyle: 'rectRot',
        },
      ],
    },
    options: {
      plugins: { title: { display: true, text: title } },
      scales: { x: { title: { display: true, text: 'k (clusters)' } }, y: { title: { display: true, text: field } } },
    },
  });
}

function profiles(list, model) {
  if (list.length === 0) {
    fill('cluster-profiles', el('p', { class: 'empty' }, 'No cluster profiles in this run.'));
    return;
  }
  fill(
    'cluster-profiles',
    list.map((p) =>
      el(
        'article',
        { class: 'card', 'aria-label': `Cluster ${p.cluster}: ${p.name}` },
        el('h3', {}, `${p.name}`),
        el('p', { class: 'actions' }, membersButton(model, p)),
        el(
          'p',
          { class: 'hint' },
          `Cluster ${p.cluster} · ${number(p.size)} contacts (${percent(p.share)})`,
          p.revenueShare !== undefined ? ` · ${percent(p.revenueShare)} of revenue` : '',
        ),
        table(
          [
            { label: 'Feature', value: ([feature]) => el('code', {}, feature) },
            { label: 'Mean', value: ([, f]) => f.mean, numeric: true },
            { label: 'Median', value: ([, f]) => f.median, numeric: true },
            {
              label: 'vs base (sd)',
              value: ([, f]) => (f.difference >= 0 ? '+' : '') + number(f.difference, 2),
              numeric: true,
            },
          ],
          Object.entries(p.features),
        ),
      ),
    ),
  );
}

/** Lists a cluster's members below the profiles, with a link that opens the builder on "in this cluster". */
function membersButton(model, profile) {
  const button = el(
    'button',
    { type: 'button', class: 'secondary', id: `cluster-members-${profile.cluster}` },
    `Members of ${profile.name}`,
  );
  button.addEventListener('click', () =>
    showPeople(
      model.name,
      { output: 'cluster', label: profile.name },
      {
        title: `Members of ${profile.name} (cluster ${profile.cluster})`,
        rule: { model: `${model.name}.cluster`, eq: profile.name },
        name: profile.name,
        currency: model.currency,
      },
    ).catch((error) => status(error.message, 'error')),
  );
  return button;
}
