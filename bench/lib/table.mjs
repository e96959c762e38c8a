/**
 * A markdown table padded the way the repository's formatter (biome) lays tables out, so that
 * a fresh results file passes `npm run lint` as written. The first column is left-aligned, the
 * others right-aligned. Returns the lines.
 */
export function markdownTable(head, rows) {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i].length)));
  const cell = (text, i) => (i === 0 ? text.padEnd(widths[i]) : text.padStart(widths[i]));
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}
