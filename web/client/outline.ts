/**
 * The offline base map: Natural Earth country outlines (world-atlas, 1:110 M, ~100 KB)
 * bundled into the page and drawn beneath the tile layer. With no internet the tiles fail
 * and this is what the agent sees; with tiles it is hidden under them.
 */

import L from 'leaflet';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import countries from 'world-atlas/countries-110m.json';

export function addWorldOutline(map: L.Map): L.Layer {
  const pane = map.createPane('outline');
  pane.style.zIndex = '150'; // below tilePane (200)
  const topo = countries as unknown as Topology<{ countries: GeometryCollection }>;
  const geo = feature(topo, topo.objects.countries);
  // GeoJSON hands its options to every polygon it makes, so `renderer` reaches them.
  const options = {
    pane: 'outline',
    renderer: L.svg({ pane: 'outline' }),
    interactive: false,
    style: { color: '#7d8a99', weight: 0.7, fillColor: '#e9ede4', fillOpacity: 1 },
  } as L.GeoJSONOptions;
  return L.geoJSON(geo, options).addTo(map);
}
