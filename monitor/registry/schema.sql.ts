/** The registry's tables. Timestamps are epoch ms; JSON columns hold arrays/objects. */
export const REGISTRY_SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  offline_after INTEGER,
  language TEXT NOT NULL DEFAULT 'en',
  channels TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  name TEXT,
  iccid TEXT UNIQUE,
  imsi TEXT,
  msisdn TEXT,
  interval REAL,
  offline_after REAL,
  species TEXT,
  sim_state TEXT NOT NULL DEFAULT 'activated',
  custom TEXT NOT NULL DEFAULT '{}',
  token_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS devices_customer ON devices(customer_id, id);
CREATE INDEX IF NOT EXISTS devices_imsi ON devices(imsi);
CREATE INDEX IF NOT EXISTS devices_msisdn ON devices(msisdn);
CREATE TABLE IF NOT EXISTS api_keys (
  token_hash TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  customer_id TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS device_state (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL
);
`;

/**
 * Columns added after the first release, applied to older registry files at start-up
 * (SQLite has no ADD COLUMN IF NOT EXISTS, so the registry checks table_info first).
 */
export const REGISTRY_COLUMNS: { table: string; column: string; type: string }[] = [
  { table: 'customers', column: 'parent_id', type: 'TEXT' },
  { table: 'customers', column: 'communication_plan', type: 'TEXT' },
  { table: 'customers', column: 'rate_plan', type: 'TEXT' },
  { table: 'customers', column: 'alert_policy', type: 'TEXT' },
  { table: 'customers', column: 'diagnosis', type: 'TEXT' },
  { table: 'customers', column: 'contacts', type: 'TEXT' },
  { table: 'devices', column: 'imei', type: 'TEXT' },
  { table: 'devices', column: 'nickname', type: 'TEXT' },
  { table: 'devices', column: 'tag_model', type: 'TEXT' },
];
