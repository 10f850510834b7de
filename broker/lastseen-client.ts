import type { Client } from 'aedes';
import type { MqttIdentity } from './acl.ts';

/** An aedes client with what lastseen's broker attaches to it at CONNECT. */
export interface LastseenClient extends Client {
  lastseen?: MqttIdentity;
  /** `devices/{id}/heartbeat` of a device client, built once at CONNECT: the per-message test is one string comparison. */
  lastseenHeartbeatTopic?: string;
  lastseenEndReason?: string;
  /** The API key a `customer:` session logged in with, so revoking it closes the session. */
  lastseenKeyId?: string;
  /** The client id as sent in CONNECT (aedes replaces an empty one with a generated id). */
  lastseenRequestedId?: string;
  /** `lastseen broker`: the hash of the secret it logged in with, checked again when the registry changes. */
  lastseenSecretHash?: string;
  /** Set when this connection was closed for holding too many heartbeats (pacing.ts). */
  lastseenHeldOverflow?: boolean;
}
