import type { Migration } from '../store/migration.js';

/** The activity log: every change and action made through the API or the console. Owned by core/activity. */
export const activityMigrations: Migration[] = [
  {
    name: '20261206T060000_activity_log',
    up: (d) => `
      CREATE TABLE activity_log (
        id ${d.types.id},
        at ${d.types.timestamp} NOT NULL,
        role ${d.types.text},
        action ${d.types.text} NOT NULL,
        target ${d.types.text},
        method ${d.types.text} NOT NULL,
        path ${d.types.text} NOT NULL,
        status ${d.types.integer} NOT NULL,
        detail ${d.types.json}
      );
      CREATE INDEX activity_log_at ON activity_log (at);
    `,
  },
];
