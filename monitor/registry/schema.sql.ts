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
