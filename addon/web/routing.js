// Routing as configured, each part with one line saying what it does.
import {h, renderInto} from "./dom.js";

export function renderRouting(routing) {
  renderInto("routing-body", routing, () =>
    h(
      "div",
      {class: "routing-box"},
      h("p", {}, h("strong", {}, `Strategy: ${routing.strategy}. `), routing.explanation),
      h("h3", {}, "Routes"),
      routing.routes.length
        ? h("ul", {}, routing.routes.map((route) => h("li", {}, h("code", {}, route.match), " — ", route.explanation)))
        : h("p", {}, "No routes: every provider may answer every request."),
      h("h3", {}, "Providers by priority"),
      h(
        "div",
        {class: "scroll"},
        h(
          "table",
          {class: "stack"},
          h("thead", {}, h("tr", {}, [["Provider"], ["Priority"], ["Weight", "opt"], ["Timeout", "opt"], ["Enabled"]].map(([t, cls]) => h("th", {scope: "col", class: cls}, t)))),
          h(
            "tbody",
            {},
            routing.providers.map((p) =>
              h(
                "tr",
                {},
                h("td", {"data-label": "Provider"}, p.name),
                h("td", {"data-label": "Priority"}, String(p.priority)),
                h("td", {"data-label": "Weight", class: "opt"}, String(p.weight)),
                h("td", {"data-label": "Timeout", class: "opt"}, `${p.timeout_s} s`),
                h("td", {"data-label": "Enabled"}, p.enabled ? "yes" : "no"),
              ),
            ),
          ),
        ),
      ),
      h("ul", {}, routing.notes.map((note) => h("li", {}, note))),
    ),
  );
}
