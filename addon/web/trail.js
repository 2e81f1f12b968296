// The attempt trail of one request: provider, outcome and time of each call, in order.
import {h} from "./dom.js";
import {ms, words} from "./format.js";

export function trail(attempts) {
  return h(
    "ol",
    {class: "trail", "aria-label": "Attempts"},
    attempts.map((attempt) => {
      const ok = attempt.outcome === "ok";
      const mark = ok ? "✓" : "✗";
      const what = ok ? (attempt.cached ? "cache" : ms(attempt.latency_ms)) : `${words(attempt.outcome)} · ${ms(attempt.latency_ms)}`;
      return h("li", {class: ok ? "okay" : "fail"}, `${attempt.provider} ${mark} ${what}`);
    }),
  );
}
