// The 30-day chart: stacked SVG bars of daily cost per provider, drawn at the box's own width
// so its text stays readable on a phone; the same numbers are offered as a table.
import {h, s} from "./dom.js";
import {usd} from "./format.js";

const HEIGHT = 220;
const PAD = {top: 10, right: 8, bottom: 24, left: 56};
const SERIES = 6;

/** The last `days` UTC calendar days, oldest first, as YYYY-MM-DD. */
export function lastDays(days, now = new Date()) {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({length: days}, (_, i) =>
    new Date(today - (days - 1 - i) * 86400000).toISOString().slice(0, 10),
  );
}

/** A round step for the y axis so that about four gridlines cover `max`. */
function niceStep(max) {
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= rough);
}

/** Series class per provider (stable by the order of `providers`). */
export function seriesOf(providers) {
  return new Map(providers.map((name, i) => [name, `s${(i % SERIES) + 1}`]));
}

export function chart({byDayProvider, providers, days, width}) {
  const series = seriesOf(providers);
  const totals = days.map((day) =>
    Object.values(byDayProvider[day] ?? {}).reduce((sum, stats) => sum + stats.cost_usd, 0),
  );
  const max = Math.max(...totals, 0);
  const step = max > 0 ? niceStep(max) : 0.01;
  const top = max > 0 ? Math.ceil(max / step) * step : step * 4;
  const plotW = Math.max(10, width - PAD.left - PAD.right);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / days.length;
  const barW = Math.max(2, slot * 0.72);
  const y = (value) => PAD.top + plotH - (value / top) * plotH;

  const grid = [];
  let decimals = 2; // enough for every gridline to be exact ($0.0025 steps need four)
  while (decimals < 8 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6) decimals += 1;
  for (let i = 0; i * step <= top + step / 2; i += 1) {
    const value = i * step;
    grid.push(
      s("line", {class: "axis", x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value)}),
      s("text", {x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end"}, `$${value.toFixed(decimals)}`),
    );
  }
  const bars = [];
  const labelEvery = Math.ceil(days.length / Math.max(2, Math.floor(plotW / 48)));
  days.forEach((day, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    let base = 0;
    for (const name of providers) {
      const stats = byDayProvider[day]?.[name];
      if (!stats || stats.cost_usd <= 0) continue;
      const height = Math.max(1, y(base) - y(base + stats.cost_usd));
      base += stats.cost_usd;
      bars.push(
        s(
          "rect",
          {class: `col ${series.get(name)}`, x, y: y(base), width: barW, height, "data-day": day, "data-provider": name},
          s("title", {}, `${day} · ${name}: ${usd(stats.cost_usd)} (${stats.requests} requests)`),
        ),
      );
    }
    if ((days.length - 1 - i) % labelEvery === 0) {
      const last = i === days.length - 1; // keep the newest day's label inside the picture
      bars.push(
        s("text", {x: last ? x + barW : x + barW / 2, y: HEIGHT - 6, "text-anchor": last ? "end" : "middle"}, day.slice(5)),
      );
    }
  });
  const total = totals.reduce((a, b) => a + b, 0);
  const graphic = s(
    "svg",
    {
      viewBox: `0 0 ${width} ${HEIGHT}`,
      width,
      height: HEIGHT,
      role: "img",
      "aria-labelledby": "chart-caption chart-summary",
    },
    grid,
    bars,
  );
  return [
    graphic,
    h("p", {id: "chart-summary", class: "muted small"}, `Total ${usd(total)} over ${days.length} days.`),
    legend(providers, series),
    table(byDayProvider, providers, days),
  ];
}

function legend(providers, series) {
  return h(
    "ul",
    {class: "legend"},
    providers.map((name) =>
      h("li", {}, s("svg", {viewBox: "0 0 10 10", "aria-hidden": "true"}, s("rect", {class: series.get(name), width: 10, height: 10, rx: 2})), name),
    ),
  );
}

function table(byDayProvider, providers, days) {
  const rows = days
    .filter((day) => byDayProvider[day])
    .map((day) =>
      h("tr", {}, h("th", {scope: "row"}, day), providers.map((name) => h("td", {class: "num"}, usd(byDayProvider[day][name]?.cost_usd ?? 0)))),
    );
  return h(
    "details",
    {},
    h("summary", {}, "Show as a table"),
    rows.length
      ? h(
          "div",
          {class: "scroll"},
          h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Day (UTC)"), providers.map((n) => h("th", {class: "num"}, n)))), h("tbody", {}, rows)),
        )
      : h("p", {class: "empty"}, "Nothing was spent in these 30 days."),
  );
}
