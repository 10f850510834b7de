import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CsvHeaderError, readOnboardingCsv, type CsvItem } from '../../../monitor/onboarding/csv.ts';
import { luhnCheckDigit, luhnValid } from '../../../monitor/registry/luhn.ts';

async function read(text: string | Buffer): Promise<CsvItem[]> {
  const out: CsvItem[] = [];
  for await (const item of readOnboardingCsv(Readable.from([Buffer.from(text)]))) out.push(item);
  return out;
}

const HEADER = 'deviceId,customerId,name,iccid,imsi,msisdn,interval,offlineAfter,species';
const iccid = (n: number) => {
  const body = `894600000000${String(n).padStart(7, '0')}`;
  return body + luhnCheckDigit(body);
};

describe('onboarding CSV (docs/contract.md §6a)', () => {
  it('reads every column, keeps ICCID leading zeros, and turns numbers into numbers', async () => {
    const items = await read(`${HEADER}\ng-1,kwt,Twiga,${iccid(1)},639020000000001,+254700000001,900,3600,giraffe\n`);
    expect(items).toEqual([
      {
        line: 2,
        ok: true,
        device: {
          id: 'g-1',
          customerId: 'kwt',
          name: 'Twiga',
          iccid: iccid(1),
          imsi: '639020000000001',
          msisdn: '+254700000001',
          interval: 900,
          offlineAfter: 3600,
          species: 'giraffe',
          imei: null,
          nickname: null,
          tagModel: null,
          simState: undefined,
        },
      },
    ]);
  });

  it('handles a BOM, CRLF line ends, quoted commas and a header with only the required columns', async () => {
    const items = await read(`\ufeffdeviceId,customerId,name\r\na,c,"Otter, the brave"\r\nb,c,"He said ""hi"""\r\n`);
    expect(items.map((i) => i.ok && [i.line, i.device.id, i.device.name])).toEqual([
      [2, 'a', 'Otter, the brave'],
      [3, 'b', 'He said "hi"'],
    ]);
  });

  it('reports each bad line by its number and carries on with the good ones', async () => {
    const text = [
      HEADER,
      `ok-1,c,,${iccid(2)}`,
      `bad-luhn,c,,${iccid(3).slice(0, -1)}${(Number(iccid(3).slice(-1)) + 1) % 10}`,
      'bad-interval,c,,,,,fifteen',
      'too-many,c,a,b,c,d,e,f,g,h,i,j',
      ',c',
      'bad id/with slash,c',
      `ok-2,c`,
    ].join('\n');
    const items = await read(text);
    expect(items.map((i) => [i.line, i.ok ? 'ok' : i.error])).toEqual([
      [2, 'ok'],
      [3, 'iccid fails the Luhn check (a mistyped digit?)'],
      [4, 'interval must be a number of seconds'],
      [5, 'has 12 fields but the header has 9 (an unquoted comma?)'],
      [6, 'deviceId is required'],
      [7, 'deviceId may contain only letters, digits, ".", "_", ":" and "-"'],
      [8, 'ok'],
    ]);
  });

  it('reports a stray quote that closes lines later on its opening line and reads the lines between on their own', async () => {
    const text = [
      'deviceId,customerId,name',
      'q-1,kwt,ok',
      'q-2,kwt,"Twiga',
      'q-3,kwt,ok',
      'q-4,kwt,ok',
      'q-5,kwt,Zuri"',
      'q-6,kwt,ok',
    ].join('\n');
    const items = await read(text);
    expect(items.map((i) => [i.line, i.ok ? i.device.id : i.error])).toEqual([
      [2, 'q-1'],
      [
        3,
        'not valid CSV: a quote opened on this line closes only on line 6 (no column may hold a line break); the lines between are read on their own',
      ],
      [4, 'q-3'],
      [5, 'q-4'],
      [6, 'not valid CSV: a quote opened on this line is never closed'],
      [7, 'q-6'],
    ]);
  });

  it('keeps a quoted line break inside a column lastseen ignores', async () => {
    const items = await read('deviceId,customerId,comments,name\nq-1,kwt,"first line\nsecond line",Twiga\nq-2,kwt,,ok\n');
    expect(items.map((i) => [i.line, i.ok ? [i.device.id, i.device.name] : i.error])).toEqual([
      [2, ['q-1', 'Twiga']],
      [4, ['q-2', 'ok']],
    ]);
  });

  it('refuses a file whose header lacks a required column, naming it', async () => {
    await expect(read('id,customer\nx,y\n')).rejects.toThrow(CsvHeaderError);
    await expect(read('deviceId,name\nx,y\n')).rejects.toThrow(/missing: customerId/);
    await expect(read('')).rejects.toThrow(/empty/);
  });

  it('reads a large file with flat memory, streaming record by record', async () => {
    const n = 200_000;
    async function* lines() {
      yield `${HEADER}\n`;
      for (let i = 0; i < n; i += 1000) {
        let chunk = '';
        for (let j = i; j < i + 1000; j++) chunk += `dev-${j},cust,,${iccid(j)},,,60\n`;
        yield chunk;
      }
    }
    let count = 0;
    let peak = 0;
    for await (const item of readOnboardingCsv(Readable.from(lines()))) {
      if (item.ok) count++;
      if (count % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(count).toBe(n);
    // 200 000 lines are ~10 MB of text; a parser that kept them all would hold far more.
    expect(peak).toBeLessThan(400 * 1024 * 1024);
  });
});

describe('Luhn check', () => {
  it('accepts valid ICCIDs and catches a single mistyped digit', () => {
    const good = iccid(12345);
    expect(luhnValid(good)).toBe(true);
    for (let pos = 0; pos < good.length; pos++) {
      const typo = good.slice(0, pos) + ((Number(good[pos]) + 1) % 10) + good.slice(pos + 1);
      expect(luhnValid(typo)).toBe(false);
    }
  });
});
