/**
 * E-commerce: the one store and its orders, rendered from the purchases of the world.
 */
import type { Hono } from 'hono';
import { paging, problem } from '../answers.js';
import { mailchimpTime } from '../account.js';
import type { RouteOptions } from './options.js';

/**
 * Mounts these routes on the sandbox's app.
 *
 * @example
 * ecommerceRoutes(app, { account, limits, written });
 */
export function ecommerceRoutes(app: Hono, { account, limits }: RouteOptions): void {
  const mainList = () => account.world.audiences[0]?.id ?? '';
  const STORE_ID = 'segflow_shop';
  app.get('/3.0/ecommerce/stores', (c) =>
    c.json({
      stores: [
        {
          id: STORE_ID,
          list_id: mainList(),
          name: 'Shop',
          platform: 'custom',
          currency_code: 'USD',
          created_at: mailchimpTime(account.world.start),
        },
      ],
      total_items: 1,
    }),
  );

  app.get('/3.0/ecommerce/stores/:store/orders', (c) => {
    if (c.req.param('store') !== STORE_ID)
      return problem(c, 404, 'Resource Not Found', 'The requested resource could not be found.');
    const page = paging(c, limits);
    if ('error' in page) return page.error;
    const orders = account.storeOrders();
    const slice = orders.slice(page.offset, page.offset + page.count).map((o) => {
      const m =
        account.fromWorld(mainList(), o.person) ?? account.fromWorld(account.world.audiences[1]?.id ?? '', o.person);
      return {
        id: o.id,
        customer: {
          id: m?.hash ?? String(o.person),
          email_address: m?.email ?? '',
          opt_in_status: m?.status === 'subscribed',
        },
        campaign_id: o.campaignId ?? '',
        financial_status: 'paid',
        currency_code: o.currency,
        order_total: o.value,
        discount_total: o.discount > 0 ? Math.round(o.value * o.discount * 100) / 100 : 0,
        processed_at_foreign: mailchimpTime(o.at),
        updated_at_foreign: mailchimpTime(o.at),
        lines: [{ id: `${o.id}-1`, product_id: o.category, product_title: o.category, quantity: 1, price: o.value }],
      };
    });
    return c.json({ store_id: STORE_ID, orders: slice, total_items: orders.length });
  });
}
