/**
 * The web console: HTML pages at `/` (the overview) and `/console/<page>`, their ES modules and stylesheet under
 * `/console/assets/`, and Chart.js under `/console/vendor/`, all served from this process (no page needs the
 * internet). Pages fetch the JSON API with the session cookie; a visitor without a session is sent to the login page.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { endSession, sessionRole } from '../auth.js';
import type { ServerDeps } from '../deps.js';
import { LOGIN_PATH, PAGES, renderLogin, renderPage, SIGN_OUT_PATH } from './pages.js';

const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Scripts, styles and data only from this origin; nothing framed, nothing inline. */
const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

interface Asset {
  body: string;
  type: string;
}

function readAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(ASSETS_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(ASSETS_DIR, name), 'utf8'), type });
  }
  return assets;
}

/** Chart.js's UMD build, read once from node_modules; its source-map comment points at a file we do not serve. */
function readChartJs(): string {
  const dist = dirname(createRequire(import.meta.url).resolve('chart.js'));
  return readFileSync(join(dist, 'chart.umd.min.js'), 'utf8').replace(/\n?\/\/# sourceMappingURL=.*$/m, '');
}

/**
 * The console's routes, mounted at `/` by `createServer`.
 *
 * @example
 * app.route('/', consoleRoutes(deps)); // GET / → the overview, or 302 to /console/login without a session
 */
export function consoleRoutes(_deps: ServerDeps): Hono {
  const app = new Hono();
  const assets = readAssets();
  const chartJs = readChartJs();
  const pages = new Map(PAGES.map((page) => [page.path, renderPage(page)]));
  const login = renderLogin();

  const serveAsset = (c: Context, asset: Asset | undefined) =>
    asset
      ? c.body(asset.body, 200, {
          'Content-Type': asset.type,
          'Cache-Control': 'no-cache',
          'X-Content-Type-Options': 'nosniff',
        })
      : c.json({ error: { code: 'not_found', message: 'no such console asset' } }, 404);

  app.get('/console/assets/:name', (c) => serveAsset(c, assets.get(c.req.param('name'))));
  app.get('/console/vendor/chart.umd.js', (c) => serveAsset(c, { body: chartJs, type: TYPES['.js']! }));
  app.get(LOGIN_PATH, (c) => c.body(login, 200, PAGE_HEADERS));
  app.get('/console', (c) => c.redirect('/', 302));
  // a form's POST, not a script's fetch: the browser navigates once, and no request is cut off by leaving the page
  app.post(SIGN_OUT_PATH, (c) => {
    endSession(c);
    return c.redirect(LOGIN_PATH, 303);
  });

  for (const [path, html] of pages) {
    app.get(path, (c) => {
      if (!sessionRole(c)) {
        const next = new URL(c.req.url);
        return c.redirect(`${LOGIN_PATH}?next=${encodeURIComponent(next.pathname + next.search)}`, 302);
      }
      return c.body(html, 200, PAGE_HEADERS);
    });
  }
  return app;
}
