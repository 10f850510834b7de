import { describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../monitor/store/wal-checkpointer.ts';

describe('WalCheckpointer', () => {
  it('reports a failure once, so the store can go back to SQLite checkpoints, when the worker cannot open the database', async () => {
    const failures: Error[] = [];
    let released = 0;
    const cp = new WalCheckpointer('/nonexistent-dir-lastseen/timeseries.db', {
      onRelease: () => released++,
      onFailure: (err) => failures.push(err),
      checkpointHere: () => undefined,
    });
    cp.committed(1000);
    await expect.poll(() => failures.length, { timeout: 5000 }).toBe(1);
    expect(failures[0].message).toMatch(/directory does not exist|unable to open|SQLITE_CANTOPEN/i);
    cp.committed(5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(failures).toHaveLength(1);
    expect(cp.holding).toBe(false);
    expect(released).toBe(0);
    await cp.close();
  });
});
