/**
 * The benchmark chart as a self-contained SVG: one panel per throughput column, one bar per
 * server (median, with the range of rounds as a whisker), each panel scaled to its own best.
 *
 * @module
 */
import { COLUMNS, type Summary } from "./report.ts";

const COLORS = ["#1f6feb", "#79b8ff", "#8250df", "#c297ff", "#1a7f37", "#6fdd8b", "#bc4c00"];
const PANEL_W = 250;
const BAR_H = 18;
const GAP = 6;
const LABEL_W = 150;

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Renders the summary's throughput columns as an SVG document. */
export function chart(summary: Summary, meta: { command: string; date: string }): string {
  const rows = summary.rows;
  // Rates only: the late ÷ early ratio is not a rate, and memory and latency are better small.
  const columns = COLUMNS.filter((c) =>
    c.higher && c.key !== "aging" && rows.some((row) => row.columns[c.key])
  );
  const panelH = rows.length * (BAR_H + GAP);
  const width = LABEL_W + columns.length * (PANEL_W + 20) + 10;
  const height = 50 + panelH + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="600">Echo benchmark: median of rounds, whisker = range ` +
    `(each panel scaled to its best)</text>`,
  ];
  rows.forEach((row, i) => {
    const y = 50 + i * (BAR_H + GAP) + BAR_H * 0.75;
    parts.push(`<text x="${LABEL_W - 8}" y="${y}" text-anchor="end">${escape(row.name)}</text>`);
  });
  columns.forEach((column, p) => {
    const x0 = LABEL_W + p * (PANEL_W + 20);
    const best = Math.max(...rows.map((row) => row.columns[column.key]?.max ?? 0));
    const scale = (value: number) => (value / best) * (PANEL_W - 60);
    parts.push(`<text x="${x0}" y="42" font-weight="600">${escape(column.title)}</text>`);
    parts.push(`<line x1="${x0}" y1="46" x2="${x0}" y2="${50 + panelH}" stroke="#888"/>`);
    rows.forEach((row, i) => {
      const s = row.columns[column.key];
      if (!s) return;
      const y = 50 + i * (BAR_H + GAP);
      const mid = y + BAR_H / 2;
      parts.push(
        `<rect x="${x0}" y="${y}" width="${scale(s.median).toFixed(1)}" height="${BAR_H}" fill="${
          COLORS[i % COLORS.length]
        }"/>`,
        `<line x1="${(x0 + scale(s.min)).toFixed(1)}" y1="${mid}" x2="${
          (x0 + scale(s.max)).toFixed(1)
        }" y2="${mid}" ` +
          `stroke="#000" stroke-width="1.5"/>`,
        `<text x="${(x0 + scale(s.max) + 4).toFixed(1)}" y="${y + BAR_H * 0.75}">${
          column.format(s.median)
        }</text>`,
      );
    });
  });
  parts.push(
    `<text x="10" y="${height - 12}" fill="#555">${escape(`${meta.command} · ${meta.date}`)}</text>`,
    "</svg>",
  );
  return parts.join("\n") + "\n";
}
