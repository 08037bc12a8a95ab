/**
 * The console's pages as HTML shells: a shared layout (navigation, sign-out) and, per page, the sections its ES module
 * fills from the JSON API. The HTML itself never holds store data, so nothing secret can leak through it.
 */
import { ACCOUNT_PAGE } from './accounts.js';

/** A console page: where it is served, what the navigation calls it, and the sections its module fills. */
export interface ConsolePage {
  /** The page's path; `/` is the overview. */
  path: string;
  /** The module under /console/assets/ that fills the page. */
  module: string;
  title: string;
  /** Markup of the page's main area (static, no data). */
  body: string;
}

export const LOGIN_PATH = '/console/login';
export const SIGN_OUT_PATH = '/console/sign-out';

const chart = (id: string, label: string) =>
  `<div class="chart"><canvas id="${id}" role="img" aria-label="${label}"></canvas></div>`;

/** The pages a session may open, in navigation order. */
export const PAGES: readonly ConsolePage[] = [
  {
    path: '/',
    module: 'overview.js',
    title: 'Overview',
    body: `
<section aria-labelledby="totals-title"><h2 id="totals-title">The store</h2><dl class="figures" id="totals"></dl></section>
<section aria-labelledby="alerts-title"><h2 id="alerts-title">Alerts</h2><div id="alerts"></div></section>
<section aria-labelledby="recent-title"><h2 id="recent-title">Last runs</h2><div id="recent-runs"></div></section>
<section aria-labelledby="segments-title"><h2 id="segments-title">Segments</h2><div id="segment-sizes"></div></section>`,
  },
  {
    path: '/console/segments',
    module: 'segments.js',
    title: 'Segments',
    body: `
<section aria-labelledby="sizes-title"><h2 id="sizes-title">Sizes over time</h2>${chart('sizes-chart', 'Segment sizes per run')}
  <fieldset id="sizes-pick" class="series-pick"></fieldset><div id="segment-list"></div></section>
<section aria-labelledby="profile-title"><h2 id="profile-title">Profile</h2>
  <form id="segment-pick" class="inline"><label for="segment-key">Segment</label> <select id="segment-key" name="key"></select></form>
  <div id="segment-profile"></div></section>
<section aria-labelledby="migration-title"><h2 id="migration-title">Migration between the last two runs</h2>
  <p class="hint" id="migration-runs"></p>${chart('migration-chart', 'Contacts moving between segments')}<div id="migration-table"></div></section>`,
  },
  {
    path: '/console/segment',
    module: 'segment.js',
    title: 'Segment',
    body: `
<section aria-labelledby="library-title" id="library" hidden><h2 id="library-title">Every segment</h2>
  <p class="hint">Segments from the config file are read-only (edit them there); segments made in the builder are kept in the store, with every version.</p>
  <div id="library-list"></div></section>
<div id="segment-detail" hidden>
<section aria-labelledby="rule-title"><h2 id="rule-title">Rule</h2><p id="segment-origin" class="hint"></p>
  <div id="segment-actions" class="actions"></div><div id="empty-panel" aria-live="polite"></div><pre id="segment-words" class="words"></pre></section>
<section aria-labelledby="size-title"><h2 id="size-title">Size over time</h2>${chart('size-chart', 'Members, entries and exits per evaluation')}<div id="size-table"></div></section>
<section aria-labelledby="members-title"><h2 id="members-title">Members</h2>
  <form id="member-search" class="inline" role="search"><label for="member-q">Email or name</label>
  <input id="member-q" name="q" type="search" autocomplete="off"> <button type="submit">Search</button>
  <a id="members-csv" class="button secondary" download>Export as CSV</a></form>
  <div id="member-list"></div><p class="pager" id="member-pager"></p></section>
<section aria-labelledby="deliveries-title"><h2 id="deliveries-title">Deliveries</h2>
  <p class="hint">Per destination, the last push of this segment: added, removed, left out and refused; then who is left out or refused now, and why.</p>
  <div id="delivery-list"></div><div id="delivery-reasons"></div></section>
</div>`,
  },
  {
    path: '/console/builder',
    module: 'builder.js',
    title: 'Builder',
    body: `
<section aria-labelledby="builder-title"><h2 id="builder-title">Segment</h2>
  <p><label for="segment-kind">Selects</label> <select id="segment-kind"><option value="contacts">people</option><option value="accounts">accounts</option></select>
  <label for="segment-key">Key</label> <input id="segment-key" name="key" required pattern="[A-Za-z][A-Za-z0-9_-]*">
  <label for="segment-name">Name</label> <input id="segment-name" name="name">
  <label for="segment-tags">Tags</label> <input id="segment-tags" name="tags" placeholder="crm, spring" title="labels a job's push can pick segments by (tag:crm); commas or spaces between them"></p>
  <p><label for="rule-group">Members match</label> <select id="rule-group"><option value="all">all of</option><option value="any">any of</option></select></p>
  <div id="rule-rows"></div><p class="actions"><button type="button" id="add-row">Add a condition</button>
  <button type="button" id="add-group" class="secondary">Add a group (all or any of)</button></p>
  <div id="rule-errors"></div>
  <p><button type="button" id="save">Save</button></p><div id="save-outcome"></div></section>
<section aria-labelledby="preview-title"><h2 id="preview-title">Live count</h2>
  <p class="figure"><strong id="preview-count">—</strong> <span id="preview-unit">members</span></p><div id="preview-sample"></div></section>`,
  },
  {
    path: '/console/clustering',
    module: 'clustering.js',
    title: 'Clustering',
    body: `
<form id="model-pick" class="inline"><label for="model-name">Model</label> <select id="model-name" name="model"></select></form>
<section aria-labelledby="curves-title"><h2 id="curves-title">Choosing k</h2><p id="chosen-k" class="hint"></p>
  <div class="pair">${chart('elbow-chart', 'Inertia per k (elbow curve)')}${chart('silhouette-chart', 'Mean silhouette per k')}</div></section>
<section aria-labelledby="clusters-title"><h2 id="clusters-title">Cluster profiles</h2><div id="cluster-profiles" class="cards"></div></section>
<section aria-labelledby="bin-title" id="bin" hidden><h2 id="bin-title">Members of the cluster</h2>
  <div id="bin-actions" class="actions"></div><div id="bin-people"></div><p class="pager" id="bin-pager"></p></section>`,
  },
  {
    path: '/console/predictions',
    module: 'predictions.js',
    title: 'Predictions',
    body: `
<form id="model-pick" class="inline"><label for="model-name">Model</label> <select id="model-name" name="model"></select></form>
<p id="prediction-summary" class="hint"></p>
<section aria-labelledby="ranked-title"><h2 id="ranked-title">Customers it costs most to lose</h2>
  <p class="hint">Ranked by churn risk × lifetime value: what losing each one is expected to cost.</p><div id="ranked-people"></div></section>
<section aria-labelledby="risk-title"><h2 id="risk-title">Churn risk</h2>${chart('risk-chart', 'Histogram of churn risk')}
  <p class="hint">Click a bar (or choose a range below) to list its people.</p><div id="risk-bins" class="actions"></div></section>
<section aria-labelledby="clv-title"><h2 id="clv-title">Customer lifetime value</h2>${chart('clv-chart', 'Histogram of customer lifetime value')}
  <div id="clv-bins" class="actions"></div></section>
<section aria-labelledby="bin-title" id="bin" hidden><h2 id="bin-title">People in the range</h2>
  <div id="bin-actions" class="actions"></div><div id="bin-people"></div><p class="pager" id="bin-pager"></p></section>`,
  },
  {
    path: '/console/voice',
    module: 'voice.js',
    title: 'Voice',
    body: `
<p id="voice-summary" class="hint"></p>
<section aria-labelledby="topics-title"><h2 id="topics-title">Topics of the tickets</h2>
  <p class="hint" id="voice-topics-hint"></p><div id="voice-topics" class="cards"></div></section>
<section aria-labelledby="bin-title" id="bin" hidden><h2 id="bin-title">People who wrote about the topic</h2>
  <div id="bin-actions" class="actions"></div><div id="bin-people"></div><p class="pager" id="bin-pager"></p></section>
<section aria-labelledby="voice-segments-title"><h2 id="voice-segments-title">Sentiment and NPS by segment</h2><div id="voice-segments"></div></section>
<section aria-labelledby="trend-title"><h2 id="trend-title">Month by month</h2>${chart('trend-chart', 'Mean sentiment and NPS per month')}<div id="voice-trend"></div></section>`,
  },
  {
    path: '/console/runs',
    module: 'runs.js',
    title: 'Runs',
    body: `
<section aria-labelledby="start-title" id="start" hidden><h2 id="start-title">Start a run</h2>
  <p class="hint">A dry run plans the pushes only: who would be added to and removed from each tool, with a sample. Nothing is read, sent or written.</p>
  <div id="job-start"></div><div id="dry-run-plan"></div></section>
<section aria-labelledby="run-title" id="run-detail" hidden><h2 id="run-title">Run</h2>
  <div id="run-actions" class="actions"></div><div id="run-outcome"></div>
  <progress id="run-progress" hidden></progress><dl class="figures" id="run-counts"></dl>
  <h3>Per destination and segment</h3><div id="run-pushes"></div>
  <h3>Rejected rows</h3><div id="run-errors"></div></section>
<section aria-labelledby="history-title"><h2 id="history-title">History</h2><div id="run-history"></div>
  <p class="pager"><button type="button" id="older" hidden>Older runs</button></p></section>`,
  },
  {
    path: '/console/jobs',
    module: 'jobs.js',
    title: 'Jobs',
    body: `
<section aria-labelledby="jobs-title"><h2 id="jobs-title">Jobs</h2><p class="hint" id="scheduler"></p><div id="job-list"></div></section>
<section aria-labelledby="connections-title"><h2 id="connections-title">Connections</h2><div id="connection-list"></div></section>`,
  },
  {
    path: '/console/contacts',
    module: 'contact.js',
    title: 'Contact',
    body: `
<form id="contact-search" class="inline" role="search"><label for="contact-email">Email</label>
  <input id="contact-email" name="email" type="email" required autocomplete="off"> <button type="submit">Find</button></form>
<div id="contact-profile"></div>`,
  },
  ACCOUNT_PAGE,
  {
    path: '/console/audit',
    module: 'audit.js',
    title: 'Audit',
    body: `<p class="actions"><span id="audit-built" class="hint"></span> <button type="button" id="audit-fresh" class="secondary">Run a fresh audit</button></p>
<div id="audit-report"></div>`,
  },
  {
    path: '/console/activity',
    module: 'activity.js',
    title: 'Activity',
    body: `<section aria-labelledby="activity-title"><h2 id="activity-title">Every change and action</h2>
  <p class="hint">What was asked of the API or the console, by which token's role, when, and how it ended: the newest first.</p>
  <div id="activity-log"></div><p class="pager"><button type="button" id="activity-older" hidden>Older entries</button></p></section>`,
  },
];

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

function htmlDocument(title: string, main: string, nav: string, module: string, withCharts: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · segflow</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
${withCharts ? '<script src="/console/vendor/chart.umd.js"></script>\n' : ''}<script type="module" src="/console/assets/${module}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">segflow</span>${nav}</header>
<main id="main">
<h1>${escapeHtml(title)}</h1>
<p id="status" class="status" role="status" aria-live="polite"></p>
${main}
</main>
</body>
</html>
`;
}

/** The full HTML of a page, its navigation link marked current. */
export function renderPage(page: ConsolePage): string {
  const links = PAGES.map(
    (p) => `<li><a href="${p.path}"${p === page ? ' aria-current="page"' : ''}>${escapeHtml(p.title)}</a></li>`,
  ).join('');
  const nav = `<nav aria-label="Console"><ul>${links}</ul></nav><form id="sign-out" method="post" action="${SIGN_OUT_PATH}"><button type="submit" class="link">Sign out</button></form>`;
  return htmlDocument(page.title, page.body, nav, page.module, /chart/.test(page.body));
}

/** The login page: asks for a token once, then the session cookie carries it. */
export function renderLogin(): string {
  const main = `
<form id="login" class="card narrow">
  <p>Sign in with an admin or read-only API token. It is exchanged for a session cookie and not stored in the browser.</p>
  <label for="token">API token</label>
  <input id="token" name="token" type="password" required autocomplete="current-password">
  <button type="submit">Sign in</button>
</form>`;
  return htmlDocument('Sign in', main, '', 'login.js', false);
}
