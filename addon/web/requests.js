// Recent requests, live: one row per request with its attempt trail (never a prompt).
import {h, renderInto} from "./dom.js";
import {clock, count, ms, usd, words} from "./format.js";
import {trail} from "./trail.js";

// [heading, class]: "num" right-aligns, "opt" is left out on a phone, "when" never wraps.
const COLUMNS = [
  ["Time", "when"],
  ["Caller", null],
  ["Provider", null],
  ["Model", "opt"],
  ["Tokens in / out", "num opt"],
  ["Cost", "num"],
  ["Latency", "num opt"],
  ["Outcome", null],
  ["Attempts", null],
];

export function renderRequests(requests) {
  renderInto("request-list", requests, () => {
    if (!requests.length) return h("p", {class: "empty"}, "No requests yet.");
    const rows = requests.map((r) => {
      const cells = [
        clock(r.ts),
        r.tag ?? "–",
        r.provider,
        r.model,
        `${count(r.input_tokens)} / ${count(r.output_tokens)}`,
        usd(r.cost_usd),
        ms(r.latency_ms),
        h("span", {class: `pill ${r.outcome === "ok" ? "ok" : "bad"}`}, r.cached ? "ok (cached)" : words(r.outcome)),
        trail(r.attempts),
      ];
      return h(
        "tr",
        {"data-request": r.request_id},
        cells.map((cell, i) => h("td", {"data-label": COLUMNS[i][0], class: COLUMNS[i][1]}, cell)),
      );
    });
    return h(
      "div",
      {class: "table-box scroll"},
      h(
        "table",
        {class: "stack", "aria-labelledby": "requests-h"},
        h("thead", {}, h("tr", {}, COLUMNS.map(([text, cls]) => h("th", {scope: "col", class: cls}, text)))),
        h("tbody", {}, rows),
      ),
    );
  });
}
