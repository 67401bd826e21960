// docs/benchmarks.svg: the A/B bar chart of a comparison.
import { fmt } from './compare.mjs';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A/B bar chart: for every comparable figure, the baseline (A) and current (B) ratio on a
 * shared axis, with the 1× line (parity with the in-run baseline) marked.
 */
export function renderSvg(comparison) {
  const rows = comparison.rows.filter((r) => r.current !== undefined || r.baseline !== undefined);
  const labelW = 430;
  const barW = 360;
  const rowH = 34;
  const top = 40;
  const height = top + rows.length * rowH + 30;
  const width = labelW + barW + 120;
  // log scale: ratios span 0.001× to 20×+, and 1× (parity) sits where it can be seen
  const values = rows.flatMap((r) => [r.baseline, r.current]).filter((v) => typeof v === 'number' && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.5, ...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(2, ...values)));
  const x = (v) =>
    labelW + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * barW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img">`,
    `<title>Benchmark ratios, baseline against current run</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">Benchmark ratios: baseline (A, grey) vs current (B, colour)</text>`,
    `<text x="10" y="33" fill="#555">log scale; lower-is-better figures in blue, higher-is-better in green; red = regressed beyond its threshold</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const label = r.id.length > 70 ? `${r.id.slice(0, 67)}…` : r.id;
    out.push(`<text x="10" y="${y + 17}">${esc(label)}</text>`);
    if (r.baseline !== undefined) {
      out.push(
        `<rect x="${labelW}" y="${y + 4}" width="${(x(r.baseline) - labelW).toFixed(1)}" height="11" fill="#b0b0b0"/>`,
      );
    }
    if (r.current !== undefined) {
      const colour = r.status === 'regressed' ? '#d73a49' : r.better === 'lower' ? '#2f6fdd' : '#2da44e';
      out.push(
        `<rect x="${labelW}" y="${y + 16}" width="${(x(r.current) - labelW).toFixed(1)}" height="11" fill="${colour}"/>`,
      );
    }
    const text = `${fmt(r.baseline)} → ${fmt(r.current)}`;
    out.push(`<text x="${labelW + barW + 8}" y="${y + 20}" fill="#333">${esc(text)}</text>`);
  });
  const bottom = top + rows.length * rowH;
  for (let t = lo; t <= hi * 1.001; t *= 10) {
    const tx = x(t).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${top - 2}" x2="${tx}" y2="${bottom}" stroke="${t === 1 ? '#000' : '#ddd'}"${t === 1 ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${tx}" y="${bottom + 14}" text-anchor="middle">${t >= 1 ? t : t.toPrecision(1)}×</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
