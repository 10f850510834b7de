import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { accountingRecord } from './accounting-record.ts';
import type { RadiusMetrics, RadiusResult } from './metrics.ts';
import { OncePerKey } from './once-per-key.ts';
import { accountingResponse, authenticatorMatches, decodeAttributes, parsePacket } from './packet.ts';
import { Retransmits } from './retransmits.ts';
import type { SessionBook } from './session-book.ts';
import { matchSim, type SimLookup } from './sim-match.ts';

export interface AccountingServerDeps {
  /** Secret for a NAS source address, null = unknown NAS (./nas-secrets.ts). */
  secretFor(address: string): string | null;
  sims: SimLookup;
  book: SessionBook;
  clock: Clock;
  log: Logger;
  metrics: RadiusMetrics;
}

/**
 * The RADIUS accounting server (RFC 2866) over UDP. One datagram at a time, synchronously:
 *
 *   1. structure (./packet.ts)               problem  → dropped, counted, no answer
 *   2. NAS secret by source address          none     → unknown_nas, dropped, no answer
 *   3. Request Authenticator                 mismatch → bad_authenticator, dropped, no answer
 *   4. retransmit (./retransmits.ts)         repeat   → answered again, not applied again
 *   5. record fields (./accounting-record.ts) missing → invalid_record, dropped, no answer
 *   6. Accounting-On/Off                              → answered (concerns the NAS, not a SIM)
 *   7. SIM → device (./sim-match.ts)         none     → unmatched_sim: answered, counted; the SIM itself
 *                                                      logged and counted once (unmatched_sims_total)
 *   8. session book                                   → accepted, answered
 *
 * Unanswered means the gateway retries and, in time, reports the failure on its side: what
 * lastseen did not take is never acknowledged. An unmatched SIM is answered because there is
 * nothing to keep for a SIM lastseen does not monitor (the gateway sends accounting for every
 * SIM on the APN): leaving it unanswered would only make the gateway retransmit forever.
 * Dropped datagrams are logged once a minute per result, not once each (a flood stays a count).
 */
export class AccountingServer {
  private socket: Socket | null = null;
  private retransmits = new Retransmits();
  private unmatched = new OncePerKey();
  private lastLogged = new Map<RadiusResult, number>();

  constructor(private deps: AccountingServerDeps) {}

  /** Bind and resolve the port (0 = a free one). */
  listen(port: number, host: string): Promise<number> {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(new Error(`LASTSEEN_RADIUS_PORT=${port}: cannot listen on ${host}:${port}/udp (${err.code ?? err.message})`));
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.deps.log.error({ err }, 'RADIUS socket error'));
        resolve(socket.address().port);
      });
    });
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  /** Handle one datagram; exposed for tests that feed bytes without a socket. Returns what became of it. */
  handle(msg: Buffer, from: { address: string; port: number }, reply: (b: Buffer) => void): RadiusResult {
    const { metrics, clock } = this.deps;
    const result = this.decide(msg, from, reply, clock.now());
    metrics.requests.inc({ result });
    return result;
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    this.handle(msg, rinfo, (b) => this.socket?.send(b, rinfo.port, rinfo.address));
  }

  private decide(msg: Buffer, from: { address: string; port: number }, reply: (b: Buffer) => void, now: number): RadiusResult {
    const p = parsePacket(msg);
    if (typeof p === 'string') return this.dropped(p, from, msg.length);
    const secret = this.deps.secretFor(from.address);
    if (secret === null) return this.dropped('unknown_nas', from, msg.length);
    if (!authenticatorMatches(p, secret)) return this.dropped('bad_authenticator', from, msg.length);
    let attrs: Record<string, unknown>;
    try {
      attrs = decodeAttributes(p);
    } catch {
      return this.dropped('malformed', from, msg.length);
    }
    const r = accountingRecord(p, attrs);
    if (typeof r === 'string') return this.dropped('invalid_record', from, msg.length, r);
    const key = Retransmits.key(from.address, from.port, p.identifier, p.bytes.subarray(4, 20), r.sessionId);
    if (this.retransmits.isRepeat(key, now)) {
      reply(accountingResponse(p, secret));
      return 'duplicate';
    }
    if (r.status === 'Accounting-On' || r.status === 'Accounting-Off') {
      this.deps.log.info({ nas: from.address, status: r.status }, 'RADIUS NAS accounting on/off');
      reply(accountingResponse(p, secret));
      return 'nas_on_off';
    }
    const match = matchSim(r, this.deps.sims);
    if (!match.deviceId) {
      if (this.unmatched.first(match.key)) {
        this.deps.metrics.unmatchedSims.inc();
        this.deps.log.warn(
          { nas: from.address, sim: match.key },
          'RADIUS accounting for a SIM no device holds (told once per SIM; counted in lastseen_radius_requests_total{result="unmatched_sim"})',
        );
      }
      reply(accountingResponse(p, secret));
      return 'unmatched_sim';
    }
    // The event's time: when the NAS saw it, not when the datagram arrived (RFC 2866 §5.2).
    const at = now - (r.delay ?? 0) * 1000;
    const note = this.deps.book.apply(match.deviceId, r, at);
    if (note) this.deps.metrics.notes.inc({ note });
    reply(accountingResponse(p, secret));
    return 'accepted';
  }

  private dropped(result: RadiusResult, from: { address: string; port: number }, bytes: number, detail?: string): RadiusResult {
    const now = this.deps.clock.now();
    const last = this.lastLogged.get(result);
    if (last === undefined || now - last >= 60_000) {
      this.lastLogged.set(result, now);
      this.deps.log.warn(
        { nas: from.address, port: from.port, bytes, result, detail },
        'RADIUS request dropped, not answered (further ones this minute only counted in lastseen_radius_requests_total)',
      );
    }
    return result;
  }
}
