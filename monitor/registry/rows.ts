import type { ChannelConfig, Contact, Customer, Device, SimState } from '../types.ts';

/** The registry's SQLite rows and their conversion to the API's objects. */
export interface DeviceRow {
  id: string;
  customer_id: string;
  name: string | null;
  iccid: string | null;
  imsi: string | null;
  msisdn: string | null;
  interval: number | null;
  offline_after: number | null;
  species: string | null;
  imei: string | null;
  nickname: string | null;
  tag_model: string | null;
  sim_state: SimState;
  custom: string;
  token_hash: string;
  created_at: number;
}

export interface CustomerRow {
  id: string;
  name: string;
  offline_after: number | null;
  language: string;
  channels: string;
  parent_id: string | null;
  communication_plan: string | null;
  rate_plan: string | null;
  alert_policy: string | null;
  diagnosis: string | null;
  /** JSON array; NULL in registries made before contacts existed. */
  contacts: string | null;
  created_at: number;
}

export function deviceFromRow(r: DeviceRow): Device {
  return {
    id: r.id,
    customerId: r.customer_id,
    name: r.name,
    iccid: r.iccid,
    imsi: r.imsi,
    msisdn: r.msisdn,
    interval: r.interval,
    offlineAfter: r.offline_after,
    species: r.species,
    imei: r.imei,
    nickname: r.nickname,
    tagModel: r.tag_model,
    simState: r.sim_state,
    custom: JSON.parse(r.custom) as Record<string, unknown>,
    createdAt: r.created_at,
  };
}

export function customerFromRow(r: CustomerRow): Customer {
  return {
    id: r.id,
    name: r.name,
    offlineAfter: r.offline_after,
    language: r.language,
    channels: JSON.parse(r.channels) as ChannelConfig[],
    parentId: r.parent_id,
    communicationPlan: r.communication_plan,
    ratePlan: r.rate_plan,
    alertPolicy: r.alert_policy ? (JSON.parse(r.alert_policy) as Record<string, number>) : null,
    diagnosis: r.diagnosis ? (JSON.parse(r.diagnosis) as Record<string, number>) : null,
    contacts: r.contacts ? (JSON.parse(r.contacts) as Contact[]) : [],
    createdAt: r.created_at,
  };
}

export function customerParams(c: Customer) {
  return {
    ...c,
    channels: JSON.stringify(c.channels),
    alertPolicy: c.alertPolicy ? JSON.stringify(c.alertPolicy) : null,
    diagnosis: c.diagnosis ? JSON.stringify(c.diagnosis) : null,
    contacts: JSON.stringify(c.contacts),
  };
}
