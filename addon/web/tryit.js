// Try it: one chat through the hub (optionally pinned to a provider), answer and its trail.
import {ApiError, api} from "./api.js";
import {h} from "./dom.js";
import {count, ms, usd, words} from "./format.js";
import {trail} from "./trail.js";

const TAG = "dashboard";

/** Keep the provider choices in step with the configured providers. */
export function offerProviders(names) {
  const select = document.getElementById("try-provider");
  const have = [...select.options].slice(1).map((o) => o.value);
  if (JSON.stringify(have) === JSON.stringify(names)) return;
  const chosen = select.value;
  select.replaceChildren(select.options[0], ...names.map((name) => h("option", {value: name}, name)));
  select.value = names.includes(chosen) ? chosen : "";
}

export function setupTryIt(onAnswer) {
  const form = document.getElementById("try-form");
  const out = document.getElementById("try-result");
  const button = document.getElementById("try-send");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const prompt = form.prompt.value.trim();
    if (!prompt) return;
    const body = {prompt, tag: TAG};
    if (form.provider.value) body.provider = form.provider.value;
    button.disabled = true;
    out.replaceChildren(h("p", {class: "muted"}, "Asking…"));
    try {
      const answer = await api("api/v1/chat", {method: "POST", body});
      out.replaceChildren(answerView(answer));
    } catch (error) {
      out.replaceChildren(errorView(error));
    } finally {
      button.disabled = false;
      onAnswer();
    }
  });
}

function answerView(a) {
  return h(
    "div",
    {class: "answer"},
    h("p", {class: "text"}, a.text || "(empty answer)"),
    h(
      "p",
      {class: "muted small"},
      `${a.provider} · ${a.model} · ${count(a.usage.input_tokens)} tokens in, ${count(a.usage.output_tokens)} out · ` +
        `${usd(a.cost_usd)} · ${ms(a.latency_ms)}${a.cached ? " · from the cache" : ""}`,
    ),
    trail(a.attempts),
  );
}

function errorView(error) {
  const attempts = error instanceof ApiError ? error.body?.error?.attempts : null;
  return h(
    "div",
    {class: "answer"},
    h("p", {class: "error"}, error.key ? `${words(error.key)}: ${error.message}` : error.message),
    attempts?.length ? trail(attempts) : null,
  );
}
