import { accountMigrations, accountSegmentMigrations } from '../accounts/migrations.js';
import { deliveryMigrations } from '../delivery/migrations.js';
import { eventMigrations } from '../events/migrations.js';
import { featureMigrations } from '../features/migrations.js';
import { identityMigrations } from '../identity/migrations.js';
import { modelMigrations } from '../models/run/migrations.js';
import { realtimeMigrations } from '../realtime/migrations.js';
import { segmentEngineMigrations } from '../segments/migrations.js';
import { runMigrations } from '../runs/migrations.js';
import { segmentMigrations } from '../segments/store/migrations.js';
import { storedSegmentMigrations } from '../segments/stored/migrations.js';
import { suppressionMigrations } from '../suppression/migrations.js';
import { activityMigrations } from '../activity/migrations.js';
import { auditMigrations } from '../audit/migrations.js';
import { erasureMigrations } from '../erasure/migrations.js';
import { voiceMigrations } from '../text/migrations.js';
import type { Migration } from './migration.js';

/** Every module's migrations. A module that owns a table adds its list here. */
export const migrations: readonly Migration[] = [
  ...identityMigrations,
  ...eventMigrations,
  ...runMigrations,
  ...segmentMigrations,
  ...featureMigrations,
  ...segmentEngineMigrations,
  ...deliveryMigrations,
  ...suppressionMigrations,
  ...modelMigrations,
  ...realtimeMigrations,
  ...activityMigrations,
  ...erasureMigrations,
  ...auditMigrations,
  ...voiceMigrations,
  ...accountMigrations,
  ...accountSegmentMigrations,
  ...storedSegmentMigrations,
];
