/**
 * The demo's shop: a small storefront on its own loopback origin, instrumented with the real browser library
 * (analytics.js, bundled from the @segment/analytics-next npm package and served from here) pointed at segflow as its
 * CDN and API host. Whoever clicks around in it — signs in with an email, views the pricing page, adds a product to
 * the cart — sees their own profile enter the "High intent" segment in the console within seconds.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Shop {
  url: string;
  close(): Promise<void>;
}

const PRODUCTS = [
  { sku: 'tee-01', name: 'Organic tee', price: 25 },
  { sku: 'mug-02', name: 'Enamel mug', price: 14 },
  { sku: 'cap-03', name: 'Canvas cap', price: 19 },
];

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/**
 * Starts the shop on `port` (0 picks a free one), sending to segflow at `segflowUrl` with `writeKey`.
 *
 * @example
 * const shop = await startShop({ port: 8081, segflowUrl: serving.url, writeKey });
 */
export async function startShop(options: { port: number; segflowUrl: string; writeKey: string }): Promise<Shop> {
  const bundle = join(
    dirname(createRequire(import.meta.url).resolve('@segment/analytics-next')),
    '..',
    'umd',
    'index.js',
  );
  const library = readFileSync(bundle);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/analytics-next.js') {
      res.writeHead(200, { 'content-type': 'application/javascript; charset=utf-8' });
      res.end(library);
      return;
    }
    if (path !== '/' && path !== '/pricing') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page(path === '/pricing' ? 'Pricing' : 'Shop', options.segflowUrl, options.writeKey));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function page(title: 'Shop' | 'Pricing', segflowUrl: string, writeKey: string): string {
  const products = PRODUCTS.map(
    (p) =>
      `<li>${escape(p.name)} — ${p.price} USD <button type="button" data-sku="${p.sku}" data-name="${escape(p.name)}" data-price="${p.price}">Add to cart</button></li>`,
  ).join('\n');
  const body =
    title === 'Pricing'
      ? `<h1>Pricing</h1><p>Free shipping over 40 USD. Members save 10% on every order.</p>`
      : `<h1>Shop</h1><ul>${products}</ul>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} · segflow demo shop</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}nav a{margin-right:1rem}
#status{color:#555}</style>
<script src="/analytics-next.js"></script></head>
<body>
<nav><a href="/">Shop</a><a href="/pricing">Pricing</a></nav>
<form id="sign-in"><label>Email <input name="email" type="email" required></label> <button>Sign in</button></form>
${body}
<p id="status"></p>
<p>Then open the segflow console at <a href="${escape(segflowUrl)}/console/contacts">${escape(segflowUrl)}/console/contacts</a>
and look up your email: a pricing-page view plus an add-to-cart puts you in "High intent" within seconds.</p>
<script>
  const status = (text) => (document.getElementById('status').textContent = text);
  const analytics = AnalyticsNext.AnalyticsBrowser.load({ writeKey: ${JSON.stringify(writeKey)}, cdnURL: ${JSON.stringify(segflowUrl)} });
  analytics.page(${JSON.stringify(title)}, { url: location.href });
  const email = localStorage.getItem('shop-email');
  if (email) status('Signed in as ' + email);
  document.getElementById('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const address = new FormData(event.target).get('email');
    localStorage.setItem('shop-email', address);
    analytics.identify('shopper:' + address, { email: address });
    status('Signed in as ' + address);
  });
  document.querySelectorAll('button[data-sku]').forEach((button) =>
    button.addEventListener('click', () => {
      analytics.track('Product Added', {
        sku: button.dataset.sku,
        name: button.dataset.name,
        price: Number(button.dataset.price),
        currency: 'USD',
      });
      status(button.dataset.name + ' added to the cart');
    }),
  );
</script>
</body>
</html>`;
}
