/** Small time-series charts (uPlot: ~45 KB, canvas, fast with thousands of points). */

import uPlot from 'uplot';
import { timeRange } from './chart-range.ts';
import { el } from './dom.ts';

export function smallChart(title: string, unit: string, xs: number[], ys: (number | null)[], colour: string): HTMLElement {
  const box = el('div', { class: 'chart' }, el('div', { class: 'chart-title' }, `${title} (${unit})`));
  if (ys.every((y) => y === null)) {
    box.append(el('div', { class: 'muted' }, 'no readings'));
    return box;
  }
  const opts: uPlot.Options = {
    width: 300,
    height: 110,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: (_u, min, max) => timeRange(min, max) } },
    axes: [
      { size: 24, font: '10px sans-serif' },
      { size: 36, font: '10px sans-serif' },
    ],
    series: [{}, { label: title, stroke: colour, width: 1.5, spanGaps: false, points: { show: xs.length < 60 } }],
  };
  // uPlot measures its target: build it once the box is attached.
  requestAnimationFrame(() => new uPlot(opts, [xs, ys], box));
  return box;
}
