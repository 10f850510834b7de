import { EventEmitter } from 'node:events';
import type { Logger } from './logger.ts';
import type { ConnectionState, DeviceStatus } from './types.ts';

/** A device's status changed (decided by monitor/liveness). */
export interface StatusChange {
  deviceId: string;
  customerId: string;
  from: DeviceStatus;
  to: DeviceStatus;
  /** When the change happened (ms): the deadline for late/offline, the receive time for online. */
  at: number;
  /** Receive time of the last valid heartbeat, or null if never heard. */
  lastSeen: number | null;
  /** The device's effective offlineAfter at the time, in ms (docs/contract.md §5). */
  offlineAfterMs?: number;
  /** The device's reporting interval in ms (declared, else configured), when it has one. */
  intervalMs?: number;
  /**
   * Decided for another worker of a cluster and mirrored here (monitor/cluster/view.ts): shown
   * on this process's map and sockets, but recorded and alerted only by the worker it was
   * handed to.
   */
  observed?: true;
}

export interface ConnectionChange {
  deviceId: string;
  customerId: string;
  connection: ConnectionState;
  /** Why the session ended, for `lost`: socket error, keepalive timeout, will. */
  reason?: string;
  at: number;
}

export interface PositionUpdate {
  deviceId: string;
  customerId: string;
  lat: number;
  lon: number;
  ts: number;
}

/** One tuple type per event, so emit and on are checked against each other. */
export interface MonitorEvents {
  status: [StatusChange];
  connection: [ConnectionChange];
  position: [PositionUpdate];
}

/**
 * The monitor's event bus. Listeners are wrapped so one throwing consumer (say, a web
 * socket that went away) is logged and does not stop the others or the heartbeat path.
 */
export class EventBus {
  private emitter = new EventEmitter();

  constructor(private log: Logger) {
    this.emitter.setMaxListeners(100);
  }

  on<K extends keyof MonitorEvents>(event: K, listener: (...args: MonitorEvents[K]) => void): () => void {
    const wrapped = (...args: MonitorEvents[K]) => {
      try {
        listener(...args);
      } catch (err) {
        this.log.error({ err, event }, 'event listener failed');
      }
    };
    this.emitter.on(event, wrapped as (...a: unknown[]) => void);
    return () => this.emitter.off(event, wrapped as (...a: unknown[]) => void);
  }

  emit<K extends keyof MonitorEvents>(event: K, ...args: MonitorEvents[K]): void {
    this.emitter.emit(event, ...args);
  }

  listenerCount(event: keyof MonitorEvents): number {
    return this.emitter.listenerCount(event);
  }
}
