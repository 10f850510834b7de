import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../monitor/diagnosis/diagnose.ts';
import { DEFAULT_THRESHOLDS } from '../../../monitor/diagnosis/thresholds.ts';
import { buildTimeline } from '../../../monitor/diagnosis/timeline.ts';
import { replay } from './fixtures.ts';
import { giraffeDocExample } from './scenarios.ts';

const doc = readFileSync(new URL('../../../docs/diagnosis.md', import.meta.url), 'utf8');

describe('docs/diagnosis.md', () => {
  it('shows the diagnosis and timeline the code gives for the giraffe whose battery ran out', () => {
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]));
    const ex = giraffeDocExample();
    const input = replay(ex.tracks, ex.now).inputs.get(ex.deviceId)!;
    expect(blocks[0]).toEqual(diagnose(input));
    expect(blocks[0].cause).toBe('battery_depleted');
    expect(blocks[1]).toEqual(buildTimeline(input));
  });

  it('lists every threshold with its default', () => {
    for (const [name, value] of Object.entries(DEFAULT_THRESHOLDS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      expect(row!.split('|')[2].trim().replace('−', '-')).toBe(String(value));
    }
  });
});
