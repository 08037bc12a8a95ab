/** The web console served at / (filled in by the console work). */
import { Hono } from 'hono';
import type { ServerDeps } from '../deps.js';

export function consoleRoutes(_deps: ServerDeps): Hono {
  return new Hono();
}
