/**
 * The run's metrics: JSON lines with a `step` and numeric fields. Every numeric field is a
 * series, charted against step (or line number when a line has no step), one small chart
 * per series so that rewards and losses of different scales stay readable.
 */

/**
 * @typedef {{ name: string, points: [number, number][] }} MetricSeries
 * @typedef {{ series: MetricSeries[], skipped: number }} ParsedMetrics
 */

/**
 * @param {string} text contents of metrics.jsonl
 * @returns {ParsedMetrics}
 */
export function parseMetricsJsonl(text) {
  /** @type {Map<string, [number, number][]>} */
  const byName = new Map();
  let skipped = 0;
  let line = 0;
  for (const raw of text.split('\n')) {
    const trimmed = raw.trim();
    if (!trimmed) continue;
    let record;
    try {
      record = JSON.parse(trimmed);
    } catch {
      skipped++; // a line being written while we read, or a damaged one
      continue;
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      skipped++;
      continue;
    }
    const step = typeof record.step === 'number' && Number.isFinite(record.step) ? record.step : line;
    line++;
    for (const [name, value] of Object.entries(record)) {
      if (name === 'step' || typeof value !== 'number' || !Number.isFinite(value)) continue;
      if (!byName.has(name)) byName.set(name, []);
      /** @type {[number, number][]} */ (byName.get(name)).push([step, value]);
    }
  }
  return { series: [...byName].map(([name, points]) => ({ name, points })), skipped };
}

/**
 * Draws one series as a line chart on a 2D canvas, scaled to its own range.
 * @param {HTMLCanvasElement} canvas
 * @param {[number, number][]} points
 */
export function drawSeries(canvas, points) {
  const ratio = window.devicePixelRatio || 1;
  const width = (canvas.width = Math.round(canvas.clientWidth * ratio));
  const height = (canvas.height = Math.round(canvas.clientHeight * ratio));
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  ctx.clearRect(0, 0, width, height);
  if (points.length === 0) return;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const pad = 4 * ratio;
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  const sy = (y) => height - pad - ((y - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  ctx.strokeStyle = '#5ab0ff';
  ctx.lineWidth = 1.5 * ratio;
  ctx.beginPath();
  points.forEach(([x, y], i) => (i ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
  if (points.length === 1) ctx.arc(sx(xs[0]), sy(ys[0]), 2 * ratio, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.fillStyle = '#8a94a6';
  ctx.font = `${10 * ratio}px system-ui, sans-serif`;
  ctx.fillText(formatValue(y1), pad, pad + 9 * ratio);
  ctx.fillText(formatValue(y0), pad, height - pad);
}

/** @param {number} v */
export function formatValue(v) {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/**
 * Fills `container` with one chart per series, newest value in each header.
 * @param {HTMLElement} container
 * @param {ParsedMetrics} metrics
 */
export function renderMetricsPanel(container, metrics) {
  container.replaceChildren();
  const heading = document.createElement('h2');
  heading.textContent = 'Metrics';
  heading.style.fontSize = '14px';
  container.append(heading);
  for (const { name, points } of metrics.series) {
    const block = document.createElement('div');
    block.className = 'metric';
    block.dataset.series = name;
    const header = document.createElement('header');
    const label = document.createElement('span');
    label.textContent = name;
    const last = document.createElement('span');
    last.textContent = formatValue(points[points.length - 1][1]);
    header.append(label, last);
    const canvas = document.createElement('canvas');
    block.append(header, canvas);
    container.append(block);
    drawSeries(canvas, points);
  }
  if (metrics.skipped) {
    const note = document.createElement('p');
    note.textContent = `${metrics.skipped} line(s) were not JSON objects and were skipped.`;
    container.append(note);
  }
}
