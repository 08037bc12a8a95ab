import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../cli/builtins.js';
import { consoleInBrowser, jobsInBackground, type ConsoleInBrowser } from '../../support/browser.js';
import { seedStore, type SeededStore } from './seed.js';

const ADMIN_TOKEN = 'operator-admin-token-5e1d9c3b7a2f4e6d8c0b';
const READ_TOKEN = 'operator-read-token-1a3c5e7b9d2f4a6c8e0d';

interface Run {
  id: number;
  status: string;
  counts: Record<string, number>;
  rejected: { total: number; rows: { connection?: string; stream?: string; recordKey?: string; reason: string }[] };
}

/**
 * The console as an operator drives it, in headless Chromium on a store seeded from the sandboxes: a dry run then a
 * run watched to its end, a cancel, a retry of a rejected row once its cause is fixed, a contact found, erased and gone
 * from HubSpot with the erasure recorded, and the read token that sees everything and can do nothing.
 */
// runs on a shared, busy machine take a while: generous limits, nothing asserted on time
describe('an operator drives the console', { timeout: 240_000 }, () => {
  let seeded: SeededStore;
  let inBrowser: ConsoleInBrowser;
  let jobs: ReturnType<typeof jobsInBackground>;
  let base: string;
  let page: Page;
  let problems: string[];

  const call = async (method: string, path: string, token = ADMIN_TOKEN, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const runOf = async (id: number) => (await call('GET', `/runs/${id}`)).json as unknown as Run;
  const latestRunId = async () => ((await call('GET', '/runs?per_page=1')).json.runs as { id: number }[])[0]!.id;

  /** A page of its own signed in with `token` through the login form, on the overview. */
  async function signIn(token: string): Promise<Page> {
    const p = await inBrowser.newPage();
    await p.goto(`${base}/console/login`);
    await p.fill('#token', token);
    await Promise.all([p.waitForURL(`${base}/`), p.click('button[type=submit]')]);
    await p.waitForSelector('body[data-state=ready]', { state: 'attached' });
    return p;
  }
  const open = (p: Page, path: string) => inBrowser.open(p, path);

  /** Waits for the run shown on the page to reach a final status, without reloading it. */
  async function finished(p: Page): Promise<string> {
    await p.waitForSelector('#run-detail[data-live=false]:not([data-status=running])', { timeout: 60_000 });
    return (await p.getAttribute('#run-detail', 'data-status'))!;
  }

  beforeAll(async () => {
    seeded = await seedStore({ people: 300, seed: 'operator', adminToken: ADMIN_TOKEN, readToken: READ_TOKEN });
    jobs = jobsInBackground(seeded.config, { registry: builtinRegistry(), now: seeded.now, cancelPollMs: 100 });
    inBrowser = await consoleInBrowser(
      { ...seeded.server, startJob: jobs.startJob },
      { warnings: true, failedRequests: true, errorAnswers: true, timeoutMs: 30_000 },
    );
    ({ base, problems } = inBrowser);
    page = await signIn(ADMIN_TOKEN);
  }, 300_000);

  afterAll(async () => {
    await jobs?.settled();
    await inBrowser?.close();
    await seeded?.close();
  }, 120_000);

  it('dry-runs the job (the plan per destination and segment), then runs it and watches it finish without reloading', async () => {
    await open(page, '/console/runs');
    await page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));
    const before = await latestRunId();
    await page.click('#dry-run-nightly');
    await page.waitForSelector('#dry-run-plan tbody tr');
    const plan = await page.$$eval('#dry-run-plan tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)),
    );
    expect(plan.map((cells) => [cells[0], cells[1]])).toEqual([
      ['hubspot_lists', 'Churned'],
      ['hubspot_lists', 'New Customers'],
    ]);
    expect(await latestRunId(), 'a dry run records no run').toBe(before);

    await page.click('#run-now-nightly');
    await page.waitForFunction(
      (id) => document.getElementById('run-title')?.textContent?.includes(`#${id + 1}`),
      before,
    );
    const status = await finished(page);
    const run = await runOf(before + 1);
    expect(status).toBe(run.status);
    expect(['succeeded', 'partial']).toContain(run.status);
    expect(await page.innerText('#run-title')).toContain(run.status);
    expect(await page.$$eval('#run-pushes tbody tr', (trs) => trs.length)).toBe(2);
    expect(await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded)).toBe(true);
    // the history lists the new run without a reload
    await page.waitForSelector(`#run-history a[data-run="${run.id}"]`);
    expect(problems).toEqual([]);
  });

  it('cancels a running run and shows it cancelled, told apart from failed', async () => {
    // HubSpot answers slowly, so the run is still reading when the cancel comes
    seeded.hubspot.faults.set({ rate: 1, kinds: ['slow'], slowMs: 800 });
    try {
      await open(page, '/console/runs');
      const before = await latestRunId();
      await page.click('#run-now-nightly');
      await page.waitForFunction(
        (id) => document.getElementById('run-title')?.textContent?.includes(`#${id + 1}`),
        before,
      );
      await page.click('#cancel-run');
      expect(await finished(page)).toBe('cancelled');
      expect((await runOf(before + 1)).status).toBe('cancelled');
      expect(await page.innerText('#run-outcome')).toContain('Cancelled on request');
      const [cancelled, failed] = await page.evaluate(() => {
        const probe = (status: string) => {
          const span = document.createElement('span');
          span.className = `badge badge-${status}`;
          document.body.append(span);
          const colour = getComputedStyle(span).backgroundColor;
          span.remove();
          return colour;
        };
        return [probe('cancelled'), probe('failed')];
      });
      expect(cancelled).not.toBe(failed);
    } finally {
      seeded.hubspot.faults.set({});
    }
    const activity = (await call('GET', '/activity?action=run.cancel')).json.entries as {
      role: string;
      status: number;
    }[];
    expect(activity[0]).toMatchObject({ role: 'admin', status: 202 });
    expect(problems).toEqual([]);
  });

  it('retries a rejected row once its cause is fixed, and the row reaches HubSpot', async () => {
    // a churned member HubSpot does not hold, whose email is broken: HubSpot lists now create missing contacts
    const members = (await call('GET', '/segments/churned/members?per_page=500')).json.members as {
      contactId: number;
      email: string | null;
    }[];
    let target: { id: number; email: string } | undefined;
    for (const m of members) {
      if (!m.email) continue;
      const profile = (await call('GET', `/contacts/${m.contactId}`)).json as { identities: { source: string }[] };
      if (!profile.identities.some((i) => i.source === 'hubspot')) {
        target = { id: m.contactId, email: m.email };
        break;
      }
    }
    expect(target, 'a churned member outside HubSpot').toBeDefined();
    (seeded.config.destinations.hubspot_lists!.config as { createMissingContacts: boolean }).createMissingContacts =
      true;
    await seeded.store.run('UPDATE contacts SET email = ? WHERE id = ?', ['broken-address', target!.id]);

    await open(page, '/console/runs');
    const before = await latestRunId();
    await page.click('#run-now-nightly');
    await page.waitForFunction(
      (id) => document.getElementById('run-title')?.textContent?.includes(`#${id + 1}`),
      before,
    );
    await finished(page);
    const rejectedRun = await runOf(before + 1);
    const row = rejectedRun.rejected.rows.find((r) => r.recordKey === `contact:${target!.id}`);
    expect(row?.reason).toContain('is not a valid email address');
    await page.waitForSelector('#run-errors tbody tr');
    expect(await page.innerText('#run-errors')).toContain('is not a valid email address');

    // the cause is fixed (the address corrected), then the rejected row is retried from the run's page
    await seeded.store.run('UPDATE contacts SET email = ? WHERE id = ?', [target!.email, target!.id]);
    await page.click('#retry-run');
    await page.waitForFunction(
      (id) => document.getElementById('run-title')?.textContent?.includes(`#${id + 2}`),
      before,
    );
    await finished(page);
    const delivered = (await call('GET', `/contacts/${target!.id}`)).json as {
      deliveries: { destination: string; segmentKey: string; status: string; destinationRecordId: string | null }[];
    };
    const delivery = delivered.deliveries.find((d) => d.segmentKey === 'churned');
    expect(delivery?.status).toBe('delivered');
    const list = [...seeded.hubspot.portal.lists.values()].find((l) => l.name === 'segflow: Churned')!;
    expect(list.members.has(delivery!.destinationRecordId!)).toBe(true);
    expect(seeded.hubspot.portal.contacts.get(delivery!.destinationRecordId!)?.properties.email).toBe(target!.email);
    const retried = (await call('GET', '/activity?action=run.retry')).json.entries as {
      detail: { requeued: number };
    }[];
    expect(retried[0]?.detail.requeued).toBeGreaterThanOrEqual(1);
    expect(problems).toEqual([]);
  });

  it('opens a contact by email, shows its identities and deliveries, erases it, and finds it gone with the erasure recorded', async () => {
    const members = (await call('GET', '/segments/churned/members?per_page=500')).json.members as {
      contactId: number;
      email: string | null;
    }[];
    let chosen: { id: number; email: string; hubspotId: string } | undefined;
    for (const m of members) {
      if (!m.email) continue;
      const profile = (await call('GET', `/contacts/${m.contactId}`)).json as {
        identities: { source: string; externalId: string | null }[];
        deliveries: { status: string }[];
      };
      const hub = profile.identities.find((i) => i.source === 'hubspot' && i.externalId);
      if (hub && profile.deliveries.some((d) => d.status === 'delivered')) {
        chosen = { id: m.contactId, email: m.email, hubspotId: hub.externalId! };
        break;
      }
    }
    expect(chosen, 'a churned member delivered to HubSpot').toBeDefined();
    expect(seeded.hubspot.portal.contacts.has(chosen!.hubspotId)).toBe(true);

    await open(page, `/console/contacts?email=${encodeURIComponent(chosen!.email)}`);
    await page.waitForSelector('#contact-profile article');
    const profile = await page.innerText('#contact-profile');
    expect(profile).toContain(chosen!.hubspotId);
    expect(profile).toContain('Deliveries to each tool');
    expect(profile).toMatch(/hubspot_lists\s+Churned\s+delivered/);

    await page.click(`#erase-open-${chosen!.id}`);
    await page.fill(`#erase-confirm-${chosen!.id}`, chosen!.email);
    await page.click(`#erase-${chosen!.id}`);
    await page.waitForSelector('#contact-profile .erasure-record');
    const record = await page.innerText('#contact-profile .erasure-record');
    expect(record).toContain(`Contact #${chosen!.id} with this email was erased on`);
    expect(record).toContain('by the admin role');
    expect(record).toContain('hubspot_lists: erased');

    expect(seeded.hubspot.portal.contacts.has(chosen!.hubspotId)).toBe(false);
    const found = (await call('GET', `/contacts?email=${encodeURIComponent(chosen!.email)}`, READ_TOKEN)).json as {
      contacts: unknown[];
      erasures: { contactId: number; erasedBy: string }[];
    };
    expect(found.contacts).toEqual([]);
    expect(found.erasures[0]).toMatchObject({ contactId: chosen!.id, erasedBy: 'admin' });
    const erasures = (await call('GET', '/activity?action=contact.erase')).json.entries as {
      target: string;
      role: string;
    }[];
    expect(erasures[0]).toMatchObject({ target: String(chosen!.id), role: 'admin' });
    expect(problems).toEqual([]);
  });

  it('as the read token: sees every page with no action on it, and the API refuses every action with 403', async () => {
    const reader = await signIn(READ_TOKEN);
    try {
      const members = (await call('GET', '/segments/churned/members?per_page=5')).json.members as {
        email: string | null;
      }[];
      const email = members.find((m) => m.email)!.email!;
      for (const path of ['/console/runs', '/console/jobs', `/console/contacts?email=${encodeURIComponent(email)}`]) {
        await open(reader, path);
        expect(
          await reader.$$eval('main button:not(#older):not(#activity-older)', (bs) =>
            bs.filter((b) => (b as HTMLElement).offsetParent !== null).map((b) => b.textContent),
          ),
        ).toEqual(path.startsWith('/console/contacts') ? ['Find'] : []);
      }
      expect(await reader.innerText('header')).toContain('read-only');

      const run = await latestRunId();
      const refused = [
        await call('POST', '/jobs/nightly/run', READ_TOKEN, {}),
        await call('POST', '/jobs/nightly/run', READ_TOKEN, { dryRun: true }),
        await call('POST', `/runs/${run}/cancel`, READ_TOKEN),
        await call('POST', `/runs/${run}/retry`, READ_TOKEN),
        await call('POST', '/connections/hubspot/check', READ_TOKEN),
        await call('POST', '/jobs/nightly/unlock', READ_TOKEN, {}),
        await call('DELETE', '/contacts/1', READ_TOKEN),
      ];
      expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 403]);
      // a session opened with the read token is refused the same way
      const viaSession = await reader.evaluate(
        async () => (await fetch('/jobs/nightly/run', { method: 'POST' })).status,
      );
      expect(viaSession).toBe(403);
      // the refused fetch itself, which the browser also reports in its console
      const refusedInPage = problems.splice(0);
      expect(refusedInPage).toContain(`403 ${base}/jobs/nightly/run`);
      expect(refusedInPage.filter((p) => !p.includes('403'))).toEqual([]);
      const log = (await call('GET', '/activity?per_page=20')).json.entries as { role: string; status: number }[];
      expect(log.filter((e) => e.status === 403).every((e) => e.role === 'read')).toBe(true);
      expect(log.filter((e) => e.status === 403).length).toBeGreaterThanOrEqual(8);
    } finally {
      await reader.context().close();
    }
    expect(problems).toEqual([]);
  });
});
