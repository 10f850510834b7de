/**
 * Every fault the driver can inject, by the name given on its command line. Another fault is
 * one more file implementing `Fault` (./fault.ts) and one more line here.
 */
import type { Fault } from './fault.ts';
import { gone } from './gone.ts';
import { kill } from './kill.ts';
import { postgres } from './postgres.ts';
import { stop } from './stop.ts';

export const faults = {
  kill,
  gone,
  stop,
  postgres,
} satisfies Record<string, Fault>;

export type FaultName = keyof typeof faults;

export const isFaultName = (name: string): name is FaultName => Object.hasOwn(faults, name);
