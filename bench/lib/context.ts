/** What every benchmark gets from the runner, and what it gives back. */
import type { Browser } from 'playwright-core';

export interface BenchContext {
  quick: boolean;
  /** Progress on stderr. */
  log(message: string): void;
  /** One headless Chromium shared by the benchmarks that need it (launched on first use). */
  browser(): Promise<Browser>;
}

export interface Chart {
  /** File name under bench/charts/. */
  file: string;
  svg: string;
  alt: string;
}

export interface SectionResult {
  name: string;
  title: string;
  /** ISO date of the run that produced it. */
  ranAt: string;
  seconds: number;
  quick: boolean;
  /** Markdown body of the section (tables, verdicts, notes), without its heading. */
  markdown: string;
  charts: Chart[];
  /** Machine-readable figures (kept in bench/results.json; the smoke test checks them). */
  figures: Record<string, unknown>;
  /** Targets with their verdicts, for the summary table. */
  targets: TargetVerdict[];
  /** How busy the machine was while this section ran, and how much of that was the bench's own processes. */
  machine?: SectionLoad;
}

export interface SectionLoad {
  loadAtStart: [number, number, number];
  /** % of one core, averaged over the section. */
  machinePercent: number;
  benchPercent: number;
  othersPercent: number;
}

export interface TargetVerdict {
  what: string;
  target: string;
  measured: string;
  met: boolean | null;
}

/** A section's result, stamped with when it started, how long it took and whether it was a quick run. */
export function section(ctx: BenchContext, startedAt: number, fields: Omit<SectionResult, 'ranAt' | 'seconds' | 'quick'>): SectionResult {
  return { ...fields, ranAt: new Date(startedAt).toISOString(), seconds: (Date.now() - startedAt) / 1000, quick: ctx.quick };
}
