import { describe, expect, it } from 'vitest';
import { Gazetteer, gazetteer } from '../../../monitor/geo/gazetteer.ts';

describe('gazetteer (bundled GeoNames places, offline)', () => {
  it('names the place nearest to known coordinates, with its country, distance and bearing', async () => {
    const g = await gazetteer();
    expect(g.size).toBeGreaterThan(100_000);
    const nairobi = g.nearest(-1.2921, 36.8219)!;
    expect(nairobi).toMatchObject({ name: 'Nairobi', country: 'KE' });
    expect(nairobi.km).toBeLessThan(3);
    expect(g.nearest(67.8557, 20.2251)).toMatchObject({ name: 'Kiruna', country: 'SE' });
    expect(g.nearest(53.5507, 9.993)).toMatchObject({ name: 'Hamburg', country: 'DE' });
  }, 60_000);

  it('answers null far out at sea and for non-numbers, rather than a place 2 000 km away', async () => {
    const g = await gazetteer();
    expect(g.nearest(0, -150)).toBeNull();
    expect(g.nearest(Number.NaN, 10)).toBeNull();
  });

  it('finds the nearest place across a grid cell border, the date line and with the bearing from the place', () => {
    const g = Gazetteer.fromRows([
      { name: 'West', lat: '10.99', lng: '20.99', country: 'AA' },
      { name: 'Far', lat: '10.5', lng: '20.5', country: 'AA' },
      { name: 'Fiji side', lat: '-16.5', lng: '179.95', country: 'FJ' },
    ]);
    // 11.01, 21.01 lies in another 1° cell than "West", 3 km away; "Far" is 80 km away in the same ring.
    const p = g.nearest(11.01, 21.01)!;
    expect(p.name).toBe('West');
    expect(p.km).toBeGreaterThan(2);
    expect(p.km).toBeLessThan(4);
    expect(p.bearing).toBeGreaterThan(30);
    expect(p.bearing).toBeLessThan(60);
    expect(g.nearest(-16.5, -179.95)).toMatchObject({ name: 'Fiji side' });
    // Due north of "Far" by 0.2°: bearing ≈ 0.
    expect(Math.round(Gazetteer.fromRows([{ name: 'Far', lat: '10.5', lng: '20.5', country: 'AA' }]).nearest(10.7, 20.5)!.bearing)).toBe(0);
  });
});
