import type { AlertEvent, CustomerInfo } from '../types.ts';
import type { Channel } from './channel.ts';

/** Publish with QoS 1; supplied by the broker side (in-process aedes or an MQTT client). */
export type MqttPublish = (topic: string, payload: string) => Promise<void>;

/**
 * docs/contract.md §3: device alerts on `alerts/{customerId}/{deviceId}`; incidents (many devices) on
 * `alerts/{customerId}/incident`. Both lie under `alerts/{customerId}/#`, the only filter a
 * customer's login may subscribe to, so the broker ACL alone keeps customers apart.
 */
export function alertTopic(alert: Pick<AlertEvent, 'customerId' | 'device'>): string {
  return `alerts/${alert.customerId}/${alert.device ? alert.device.id : 'incident'}`;
}

export class MqttChannel implements Channel {
  constructor(private publish: MqttPublish) {}

  send(alert: AlertEvent, _customer: CustomerInfo): Promise<void> {
    return this.publish(alertTopic(alert), JSON.stringify(alert));
  }
}
