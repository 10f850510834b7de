export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` every 100 ms until true; throws after `limitMs`. Returns how long it took. */
export async function until(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(100);
  }
}
