/**
 * Small hand-rolled SVG charts (no dependency): distributions as box plots over the raw samples,
 * lines for a figure against a count, and grouped bars. Deterministic output for the same data.
 */
import { percentile } from './stats.js';

const W = 760;
const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"';
const COLOURS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f = (v: number): string => (Math.round(v * 10) / 10).toString();
/** A figure for a label: three significant digits at most (116, 38.6, 0.27). */
const short = (v: number): string => (Math.abs(v) >= 100 ? Math.round(v).toString() : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(2));

/** "Nice" axis ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  const end = Math.ceil(hi / step - 1e-9) * step;
  for (let v = Math.floor(lo / step) * step; v <= end + step * 1e-9; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

function frame(height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ${FONT} font-size="12">`,
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" fill="#111827">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** A tiny deterministic PRNG for the dots' vertical jitter. */
function jitter(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface DistributionSeries {
  label: string;
  samples: readonly number[];
}

/** One row per series: the samples as dots, a box p25–p75, whiskers p5–p95, the median as a bar. */
export function distributionChart(options: {
  title: string;
  unit: string;
  series: DistributionSeries[];
  target?: { value: number; label: string };
  /** Logarithmic axis (for round trips spanning 0.1 to 100 ms). */
  log?: boolean;
}): string {
  const rowH = 46;
  const left = 200;
  const right = W - 30;
  const top = 44;
  const series = options.series.filter((s) => s.samples.length > 0);
  const height = top + Math.max(1, series.length) * rowH + 72;
  const sortedAll = series.map((s) => [...s.samples].sort((a, b) => a - b));
  let hi = Math.max(1, ...sortedAll.map((s) => percentile(s, 99)), options.target ? options.target.value * 1.1 : 0);
  let lo = Math.min(0, ...sortedAll.map((s) => s[0] ?? 0));
  let ticks: number[];
  let x: (v: number) => number;
  if (options.log) {
    const all = sortedAll.flat().filter((v) => v > 0);
    lo = 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...all))));
    hi = 10 ** Math.ceil(Math.log10(Math.max(...all, hi)));
    ticks = [];
    for (let d = lo; d <= hi * 1.0001; d *= 10) for (const m of [1, 2, 5]) if (d * m <= hi * 1.0001) ticks.push(Number((d * m).toPrecision(3)));
    const [l0, l1] = [Math.log10(lo), Math.log10(hi)];
    x = (v: number): number => left + ((Math.log10(Math.min(Math.max(v, lo), hi)) - l0) / (l1 - l0)) * (right - left);
  } else {
    ticks = niceTicks(lo, hi);
    hi = ticks[ticks.length - 1]!;
    x = (v: number): number => left + ((Math.min(v, hi) - lo) / (hi - lo)) * (right - left);
  }
  const body: string[] = [];
  const axisY = top + series.length * rowH + 8;
  for (const t of ticks) {
    body.push(`<line x1="${f(x(t))}" y1="${top - 4}" x2="${f(x(t))}" y2="${axisY}" stroke="#e5e7eb"/>`);
    body.push(`<text x="${f(x(t))}" y="${axisY + 16}" text-anchor="middle" fill="#374151">${t}</text>`);
  }
  body.push(`<text x="${(left + right) / 2}" y="${axisY + 36}" text-anchor="middle" fill="#374151">${esc(options.unit)}${options.log ? ', logarithmic' : ''} (values past the axis are drawn at its end)</text>`);
  series.forEach((s, i) => {
    const sorted = sortedAll[i]!;
    const cy = top + i * rowH + rowH / 2;
    const colour = COLOURS[i % COLOURS.length]!;
    const p = (q: number): number => percentile(sorted, q);
    body.push(`<text x="${left - 10}" y="${cy - 3}" text-anchor="end" fill="#111827" font-weight="600">${esc(s.label)}</text>`);
    body.push(`<text x="${left - 10}" y="${cy + 12}" text-anchor="end" fill="#4b5563">p50 ${short(p(50))} · p99 ${short(p(99))} · n=${sorted.length}</text>`);
    const rnd = jitter(i + 1);
    const step = Math.max(1, Math.ceil(sorted.length / 500));
    for (let k = 0; k < sorted.length; k += step) {
      body.push(`<circle cx="${f(x(sorted[k]!))}" cy="${f(cy + (rnd() - 0.5) * 22)}" r="1.8" fill="${colour}" fill-opacity="0.35"/>`);
    }
    body.push(`<line x1="${f(x(p(5)))}" y1="${cy}" x2="${f(x(p(95)))}" y2="${cy}" stroke="${colour}" stroke-width="1.5"/>`);
    for (const q of [5, 95]) body.push(`<line x1="${f(x(p(q)))}" y1="${cy - 6}" x2="${f(x(p(q)))}" y2="${cy + 6}" stroke="${colour}" stroke-width="1.5"/>`);
    body.push(`<rect x="${f(x(p(25)))}" y="${cy - 11}" width="${f(Math.max(1, x(p(75)) - x(p(25))))}" height="22" fill="${colour}" fill-opacity="0.18" stroke="${colour}"/>`);
    body.push(`<line x1="${f(x(p(50)))}" y1="${cy - 13}" x2="${f(x(p(50)))}" y2="${cy + 13}" stroke="#111827" stroke-width="2.5"/>`);
  });
  if (options.target) {
    const tx = x(options.target.value);
    body.push(`<line x1="${f(tx)}" y1="${top - 8}" x2="${f(tx)}" y2="${axisY}" stroke="#dc2626" stroke-dasharray="5,4" stroke-width="1.5"/>`);
    const anchor = tx > (left + right) / 2 ? `x="${f(tx - 4)}" text-anchor="end"` : `x="${f(tx + 4)}"`;
    body.push(`<text ${anchor} y="${top - 10}" fill="#dc2626">${esc(options.target.label)}</text>`);
  }
  body.push(`<text x="${W - 10}" y="${height - 6}" text-anchor="end" fill="#6b7280" font-size="10">box p25–p75 · whiskers p5–p95 · bar median · dots = samples</text>`);
  return frame(height, options.title, body);
}

export interface LineSeries {
  label: string;
  points: readonly (readonly [number, number])[];
  /** Optional spread per point (low, high), drawn as a vertical bar. */
  ranges?: readonly (readonly [number, number])[];
  dashed?: boolean;
}

/** Lines of y against x, with a legend; optional horizontal reference line. */
export function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  reference?: { value: number; label: string };
  yMin?: number;
}): string {
  const left = 70;
  const right = W - 180;
  const top = 44;
  const height = 380;
  const bottom = height - 56;
  const xs = options.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = options.series.flatMap((s) => [...s.points.map((p) => p[1]), ...(s.ranges ?? []).map((r) => r[1])]);
  if (options.reference) ys.push(options.reference.value);
  const xTicks = niceTicks(Math.min(0, ...xs), Math.max(1, ...xs));
  const yTicks = niceTicks(options.yMin ?? Math.min(0, ...ys), Math.max(1, ...ys) * 1.05);
  const [x0, x1] = [xTicks[0]!, xTicks[xTicks.length - 1]!];
  const [y0, y1] = [yTicks[0]!, yTicks[yTicks.length - 1]!];
  const x = (v: number): number => left + ((v - x0) / (x1 - x0)) * (right - left);
  const y = (v: number): number => bottom - ((v - y0) / (y1 - y0)) * (bottom - top);
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${left}" y1="${f(y(t))}" x2="${right}" y2="${f(y(t))}" stroke="#e5e7eb"/>`);
    body.push(`<text x="${left - 8}" y="${f(y(t) + 4)}" text-anchor="end" fill="#374151">${t}</text>`);
  }
  for (const t of xTicks) {
    body.push(`<line x1="${f(x(t))}" y1="${bottom}" x2="${f(x(t))}" y2="${bottom + 5}" stroke="#374151"/>`);
    body.push(`<text x="${f(x(t))}" y="${bottom + 19}" text-anchor="middle" fill="#374151">${t}</text>`);
  }
  body.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#374151"/>`);
  body.push(`<text x="${(left + right) / 2}" y="${height - 14}" text-anchor="middle" fill="#374151">${esc(options.xLabel)}</text>`);
  body.push(`<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#374151">${esc(options.yLabel)}</text>`);
  if (options.reference) {
    const ry = y(options.reference.value);
    body.push(`<line x1="${left}" y1="${f(ry)}" x2="${right}" y2="${f(ry)}" stroke="#dc2626" stroke-dasharray="5,4"/>`);
    body.push(`<text x="${left + 4}" y="${f(ry - 5)}" fill="#dc2626">${esc(options.reference.label)}</text>`);
  }
  options.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const path = s.points.map((p, k) => `${k ? 'L' : 'M'}${f(x(p[0]))},${f(y(p[1]))}`).join(' ');
    body.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    s.points.forEach((p, k) => {
      const r = s.ranges?.[k];
      if (r) body.push(`<line x1="${f(x(p[0]))}" y1="${f(y(r[0]))}" x2="${f(x(p[0]))}" y2="${f(y(r[1]))}" stroke="${colour}" stroke-opacity="0.6" stroke-width="5"/>`);
      body.push(`<circle cx="${f(x(p[0]))}" cy="${f(y(p[1]))}" r="3.5" fill="${colour}"/>`);
    });
    const ly = top + 8 + i * 20;
    body.push(`<line x1="${right + 16}" y1="${ly}" x2="${right + 40}" y2="${ly}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    body.push(`<text x="${right + 46}" y="${ly + 4}" fill="#111827">${esc(s.label)}</text>`);
  });
  return frame(height, options.title, body);
}

/** Groups of bars (one group per category, one bar per series) with value labels. */
export function barChart(options: {
  title: string;
  yLabel: string;
  categories: string[];
  series: { label: string; values: (number | null)[] }[];
  digits?: number;
}): string {
  const left = 70;
  const right = W - 180;
  const top = 44;
  const height = 360;
  const bottom = height - 50;
  const all = options.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const yTicks = niceTicks(0, Math.max(1, ...all) * 1.1);
  const y1 = yTicks[yTicks.length - 1]!;
  const y = (v: number): number => bottom - (v / y1) * (bottom - top);
  const groupW = (right - left) / Math.max(1, options.categories.length);
  const barW = (groupW * 0.7) / Math.max(1, options.series.length);
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${left}" y1="${f(y(t))}" x2="${right}" y2="${f(y(t))}" stroke="#e5e7eb"/>`);
    body.push(`<text x="${left - 8}" y="${f(y(t) + 4)}" text-anchor="end" fill="#374151">${t}</text>`);
  }
  body.push(`<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#374151">${esc(options.yLabel)}</text>`);
  options.categories.forEach((c, ci) => {
    const gx = left + ci * groupW + groupW * 0.15;
    body.push(`<text x="${f(left + ci * groupW + groupW / 2)}" y="${bottom + 20}" text-anchor="middle" fill="#374151">${esc(c)}</text>`);
    options.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const bx = gx + si * barW;
      body.push(`<rect x="${f(bx)}" y="${f(y(v))}" width="${f(barW - 2)}" height="${f(bottom - y(v))}" fill="${COLOURS[si % COLOURS.length]}"/>`);
      body.push(`<text x="${f(bx + barW / 2 - 1)}" y="${f(y(v) - 4)}" text-anchor="middle" fill="#111827" font-size="10">${v.toFixed(options.digits ?? 1)}</text>`);
    });
  });
  body.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#374151"/>`);
  options.series.forEach((s, i) => {
    const ly = top + 8 + i * 20;
    body.push(`<rect x="${right + 16}" y="${ly - 7}" width="14" height="14" fill="${COLOURS[i % COLOURS.length]}"/>`);
    body.push(`<text x="${right + 36}" y="${ly + 4}" fill="#111827">${esc(s.label)}</text>`);
  });
  return frame(height, options.title, body);
}
