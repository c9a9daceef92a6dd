// Types of metrics.js (a plain browser module) for the Node tests that import it.
export interface MetricSeries {
  name: string;
  points: [number, number][];
}
export interface ParsedMetrics {
  series: MetricSeries[];
  skipped: number;
}
export function parseMetricsJsonl(text: string): ParsedMetrics;
export function formatValue(v: number): string;
export function drawSeries(canvas: HTMLCanvasElement, points: [number, number][]): void;
export function renderMetricsPanel(container: HTMLElement, metrics: ParsedMetrics): void;
