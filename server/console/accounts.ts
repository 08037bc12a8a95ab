/**
 * The console's account page (read-only): find an account by name or domain, then its traits, its records in each
 * tool, its features, its members (each linking to their contact page) and the account segments it is in. Filled by
 * assets/account.js from GET /accounts and GET /accounts/:id.
 */
import type { ConsolePage } from './pages.js';

export const ACCOUNT_PAGE: ConsolePage = {
  path: '/console/accounts',
  module: 'account.js',
  title: 'Account',
  body: `
<form id="account-search" class="inline" role="search"><label for="account-query">Name or domain</label>
  <input id="account-query" name="search" required autocomplete="off"> <button type="submit">Find</button></form>
<div id="account-matches"></div>
<div id="account-profile"></div>`,
};
