// Spend: today and this month against the budgets, the 30-day chart, tables by caller and model.
import {chart, lastDays} from "./chart.js";
import {h, invalidate, renderInto} from "./dom.js";
import {compact, count, ms, percent, usd} from "./format.js";
import {meter} from "./providers.js";

const DAYS = 30;
const sortState = {
  "by-tag": {column: "cost_usd", descending: true},
  "by-model": {column: "cost_usd", descending: true},
};

export function renderSpend(usage, providerNames) {
  renderInto("gauges", {today: usage.today, month: usage.month, budget: usage.budget}, gauges);
  const days = lastDays(DAYS);
  const names = [...new Set([...providerNames, ...Object.values(usage.by_day_provider).flatMap(Object.keys)])];
  const box = document.getElementById("chart");
  const width = Math.round(box.clientWidth) || 640;
  renderInto("chart", {data: usage.by_day_provider, names, days, width}, () =>
    chart({byDayProvider: usage.by_day_provider, providers: names, days, width}),
  );
  renderTable("by-tag", "Caller", usage.by_tag, "No tagged requests in the last 30 days.");
  renderTable("by-model", "Model", usage.by_model, "No requests in the last 30 days.");
}

/** The chart is drawn at the box's width: draw it again when that changes. */
export function redrawOnResize(redraw) {
  let last = 0;
  new ResizeObserver((entries) => {
    const width = Math.round(entries[0].contentRect.width);
    if (Math.abs(width - last) < 8) return;
    last = width;
    invalidate("chart");
    redraw();
  }).observe(document.getElementById("chart"));
}

function gauges({today, month, budget}) {
  return [
    gauge("Today (UTC)", today, budget.daily, "daily"),
    gauge("This month (UTC)", month, budget.monthly, "monthly"),
  ];
}

function gauge(title, stats, period, word) {
  const spent = period.spent_usd;
  const limited = period.limit_usd !== null && period.limit_usd !== undefined;
  return h(
    "div",
    {class: "gauge"},
    h("h3", {}, title),
    h("p", {class: "big"}, usd(spent)),
    limited
      ? [
          meter(spent + period.reserved_usd, period.limit_usd, `${title} against the ${word} budget`),
          h("p", {}, `of ${usd(period.limit_usd)} ${word} budget · ${usd(period.left_usd)} left`),
        ]
      : h("p", {}, `no ${word} budget set`),
    period.reserved_usd > 0 ? h("p", {class: "muted small"}, `${usd(period.reserved_usd)} held for calls in progress`) : null,
    h(
      "p",
      {class: "muted small"},
      `${count(stats.requests)} requests (${count(stats.failed)} failed) · ${count(stats.attempts)} attempts · ` +
        `${compact(stats.input_tokens)} tokens in, ${compact(stats.output_tokens)} out`,
    ),
  );
}

const COLUMNS = [
  {key: "name", label: null, text: (row) => row.name},
  {key: "requests", label: "Requests", num: true, text: (row) => count(row.requests)},
  {key: "attempts", label: "Attempts", num: true, opt: true, text: (row) => count(row.attempts)},
  {key: "success_rate", label: "Success", num: true, text: (row) => percent(row.success_rate)},
  {key: "input_tokens", label: "Tokens in", num: true, opt: true, text: (row) => compact(row.input_tokens)},
  {key: "output_tokens", label: "Tokens out", num: true, opt: true, text: (row) => compact(row.output_tokens)},
  {key: "cost_usd", label: "Cost", num: true, text: (row) => usd(row.cost_usd)},
  {key: "avg_latency_ms", label: "Avg latency", num: true, opt: true, text: (row) => ms(row.avg_latency_ms)},
];

/** "num" right-aligns; "opt" columns are left out on a phone. */
function classes(column) {
  return [column.num ? "num" : "", column.opt ? "opt" : ""].join(" ").trim() || null;
}

function renderTable(id, nameLabel, groups, emptyText) {
  const rows = Object.entries(groups).map(([name, stats]) => ({name, ...stats}));
  const state = sortState[id];
  renderInto(id, {rows, state}, () => {
    if (!rows.length) return h("p", {class: "empty"}, emptyText);
    const sign = state.descending ? -1 : 1;
    rows.sort((a, b) => {
      const x = a[state.column] ?? -Infinity;
      const y = b[state.column] ?? -Infinity;
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
    const head = COLUMNS.map((column) => {
      const label = column.label ?? nameLabel;
      const sorted = state.column === column.key;
      return h(
        "th",
        {scope: "col", class: classes(column), "aria-sort": sorted ? (state.descending ? "descending" : "ascending") : null},
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              state.descending = sorted ? !state.descending : column.key !== "name";
              state.column = column.key;
              renderTable(id, nameLabel, groups, emptyText);
              document.querySelector(`#${id} th[aria-sort] button`)?.focus();
            },
          },
          label,
        ),
      );
    });
    const body = rows.map((row) =>
      h("tr", {}, COLUMNS.map((column) => h("td", {class: classes(column), "data-label": column.label ?? nameLabel}, column.text(row)))),
    );
    return h(
      "div",
      {class: "scroll"},
      h("table", {class: "stack", "aria-labelledby": `${id}-h`}, h("thead", {}, h("tr", {}, head)), h("tbody", {}, body)),
    );
  });
}
