/**
 * The PostgreSQL engine (node-postgres): a pool of connections to one database, for stores that outgrow one machine
 * or need several workers. A sibling of `sqlite/`, exporting the same two things.
 */
export { postgresDialect } from './dialect.js';
export { openPostgresDriver, POOL_SIZE, WRITER_LOCK, typeParsers } from './connection.js';
export { numberPlaceholders } from './placeholders.js';
