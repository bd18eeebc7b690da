/** A grouped bar chart as a self-contained SVG string: one group per category, one bar per series. */
export interface BarChart {
  title: string;
  unit: string;
  categories: string[];
  series: { name: string; values: (number | undefined)[] }[];
}

const COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChartSvg(c: BarChart): string {
  const width = 760, height = 400, left = 70, right = 20, top = 50, bottom = 70;
  const plotW = width - left - right, plotH = height - top - bottom;
  const max = Math.max(1, ...c.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)));
  const groupW = plotW / c.categories.length;
  const barW = (groupW * 0.8) / c.series.length;
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(c.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i += 1) {
    const v = (max * i) / 5;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`);
  }
  parts.push(`<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${esc(c.unit)}</text>`);
  c.categories.forEach((cat, gi) => {
    const gx = left + gi * groupW + groupW * 0.1;
    c.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined) return;
      const x = gx + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${COLOURS[si % COLOURS.length]}"><title>${esc(`${s.name} ${cat}: ${v}`)}</title></rect>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`);
    });
    parts.push(`<text x="${gx + groupW * 0.4}" y="${top + plotH + 18}" text-anchor="middle">${esc(cat)}</text>`);
  });
  c.series.forEach((s, si) => {
    // the legend shares the width out, so that a fifth series is not drawn past the edge
    const lx = left + si * Math.min(170, (width - left) / c.series.length);
    parts.push(`<rect x="${lx}" y="${height - 28}" width="12" height="12" fill="${COLOURS[si % COLOURS.length]}"/>`,
      `<text x="${lx + 16}" y="${height - 18}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
