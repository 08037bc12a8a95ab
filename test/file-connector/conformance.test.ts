import { fileURLToPath } from 'node:url';
import { source } from '../../connectors/file/index.js';
import { runSourceConformance } from '../../plugins/conformance/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const contacts = {
  path: fixture('contacts.csv'),
  cursorColumn: 'Modified',
  columns: { 'E-mail': 'email', Modified: 'updated_at' },
};
const events = {
  path: fixture('events.jsonl'),
  emailColumn: 'email',
  valueColumn: 'total',
  types: { order: 'purchase' as const },
};

runSourceConformance({
  connector: source,
  config: { pageSize: 3, contacts, events },
  badConfig: { contacts: { ...contacts, path: fixture('missing.csv') }, events },
});
