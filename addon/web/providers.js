// Provider cards: state and reason, recent figures, headroom, spend, and the key controls.
// A card is built once per provider and then updated in place, so a half-typed key survives
// the live refresh.
import {api} from "./api.js";
import {h} from "./dom.js";
import {compact, count, ms, percent, usd, words} from "./format.js";

const cards = new Map();
let afterChange = () => {};

/** Draw (or update) one card per provider; onChange() runs after a key was set or removed. */
export function renderProviders(providers, onChange) {
  afterChange = onChange;
  const box = document.getElementById("provider-cards");
  const names = providers.map((p) => p.name);
  for (const [name, card] of cards) {
    if (!names.includes(name)) {
      card.root.remove();
      cards.delete(name);
    }
  }
  providers.forEach((provider) => {
    let card = cards.get(provider.name);
    if (!card) {
      card = makeCard(provider.name);
      cards.set(provider.name, card);
    }
    box.append(card.root); // keeps the API's order
    card.update(provider);
  });
  if (!providers.length) box.replaceChildren(h("p", {class: "empty"}, "No provider is configured."));
}

function fact(text, wide = false) {
  const label = h("dt", {}, text);
  const value = h("dd");
  return {node: h("div", {class: wide ? "wide" : null}, label, value), label, value};
}

function makeCard(name) {
  const id = `provider-${name}`;
  const title = h("h3", {id: `${id}-h`}, name);
  const pill = h("span", {class: "pill"});
  const sub = h("p", {class: "sub"});
  const reason = h("p", {class: "reason", hidden: true});
  const facts = {
    latency: fact("Latency"),
    success: fact("Success (1 h)"),
    flight: fact("In flight"),
    headroom: fact("Rate headroom"),
    spend: fact("Spend today", true),
    key: fact("API key", true),
  };
  const result = h("p", {class: "result", "aria-live": "polite"});
  const input = h("input", {type: "password", autocomplete: "off", id: `${id}-key`, name: "api_key"});
  const form = h(
    "form",
    {class: "keyform", hidden: true},
    h("label", {for: `${id}-key`}, `New API key for ${name}`),
    input,
    h(
      "div",
      {class: "row"},
      h("button", {type: "submit", class: "primary"}, "Save key"),
      h("button", {type: "button", onclick: () => testKey(name, input.value.trim(), result)}, "Test this key"),
      h("button", {type: "button", onclick: () => closeForm()}, "Cancel"),
    ),
  );
  const testButton = h("button", {type: "button"}, "Test connection");
  const setButton = h("button", {type: "button", "aria-expanded": "false"}, "Set key");
  const removeButton = h("button", {type: "button", class: "danger"}, "Remove key");
  const root = h(
    "article",
    {class: "card", id, "aria-labelledby": `${id}-h`},
    h("header", {}, title, pill),
    sub,
    reason,
    h("dl", {class: "facts"}, Object.values(facts).map((f) => f.node)),
    h("div", {class: "actions"}, testButton, setButton, removeButton),
    form,
    result,
  );

  function closeForm() {
    form.hidden = true;
    input.value = "";
    setButton.setAttribute("aria-expanded", "false");
  }
  testButton.addEventListener("click", () => testKey(name, null, result, testButton));
  setButton.addEventListener("click", () => {
    form.hidden = !form.hidden;
    setButton.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) input.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    await act(result, form.querySelector("button[type=submit]"), async () => {
      const answer = await api(`api/v1/providers/${encodeURIComponent(name)}/credentials`, {
        method: "PUT",
        body: {api_key: key},
      });
      closeForm();
      afterChange();
      return `Key saved: ${answer.api_key}`;
    });
  });
  let confirmTimer = null;
  removeButton.addEventListener("click", async () => {
    if (!confirmTimer) {
      removeButton.textContent = "Click again to remove";
      confirmTimer = setTimeout(() => {
        removeButton.textContent = "Remove key";
        confirmTimer = null;
      }, 5000);
      return;
    }
    clearTimeout(confirmTimer);
    confirmTimer = null;
    removeButton.textContent = "Remove key";
    await act(result, removeButton, async () => {
      const answer = await api(`api/v1/providers/${encodeURIComponent(name)}/credentials`, {
        method: "DELETE",
      });
      afterChange();
      return answer.api_key ? `Stored key removed; the options' key ${answer.api_key} is used` : "Key removed";
    });
  });

  function update(p) {
    root.className = `card state-${p.state}`;
    pill.className = `pill ${p.state}`;
    pill.textContent = words(p.state);
    sub.textContent = [p.type, p.model, p.vision_model ? `vision: ${p.vision_model}` : null]
      .filter(Boolean)
      .join(" · ");
    reason.hidden = !p.reason;
    reason.textContent = p.reason ?? "";
    const recent = p.recent ?? {};
    const median = recent.p50_latency_ms;
    facts.latency.label.textContent = median ? "Median latency (1 h)" : "Latency (last check)";
    facts.latency.value.textContent = ms(median ?? p.latency_ms);
    facts.success.value.textContent = recent.attempts
      ? `${percent(recent.success_rate)} of ${count(recent.attempts)} attempt${recent.attempts === 1 ? "" : "s"}`
      : "no calls";
    const cap = p.limits?.max_concurrency;
    facts.flight.value.textContent = cap ? `${p.in_flight} of ${cap}` : `${p.in_flight} (no cap)`;
    facts.headroom.value.textContent = headroom(p);
    facts.spend.value.replaceChildren(...spend(p));
    facts.key.value.textContent = p.api_key ?? (p.type === "ollama" ? "none (not needed)" : "none");
    setButton.textContent = p.api_key ? "Replace key" : "Set key";
    removeButton.hidden = !p.key_stored;
  }
  return {root, update};
}

function headroom(p) {
  const parts = [];
  const room = p.headroom ?? {};
  if (p.limits?.rpm) parts.push(`${count(room.rpm)} of ${count(p.limits.rpm)} rpm`);
  if (p.limits?.tpm) parts.push(`${compact(room.tpm)} of ${compact(p.limits.tpm)} tpm`);
  return parts.length ? parts.join(" · ") : "no limits set";
}

function spend(p) {
  const daily = p.budget?.daily;
  const spent = daily?.spent_usd ?? 0;
  if (!daily || daily.limit_usd === null || daily.limit_usd === undefined) {
    return [`${usd(spent)}${p.free ? " (free model)" : ""} · no daily budget`];
  }
  return [`${usd(spent)} of ${usd(daily.limit_usd)} (${usd(daily.left_usd)} left)`, meter(spent, daily.limit_usd, `${p.name} spend today`)];
}

/** A bar for spent / limit, with its meaning for assistive technology. */
export function meter(value, limit, label) {
  const share = limit > 0 ? Math.min(1, value / limit) : 1;
  const fillBar = h("span");
  fillBar.style.width = `${(share * 100).toFixed(1)}%`;
  const cls = share >= 1 ? "bar full" : share >= 0.8 ? "bar high" : "bar";
  return h(
    "div",
    {
      class: cls,
      role: "meter",
      "aria-label": label,
      "aria-valuemin": 0,
      "aria-valuemax": limit,
      "aria-valuenow": Math.min(value, limit),
      "aria-valuetext": `${usd(value)} of ${usd(limit)}`,
    },
    fillBar,
  );
}

async function testKey(name, key, result, button) {
  await act(result, button, async () => {
    const answer = await api(`api/v1/providers/${encodeURIComponent(name)}/test`, {
      method: "POST",
      body: key ? {api_key: key} : {},
    });
    if (answer.result !== "valid") throw new Error(`${words(answer.result)}: ${answer.message}`);
    return answer.message;
  });
}

async function act(result, button, work) {
  result.className = "result";
  result.textContent = "Working…";
  if (button) button.disabled = true;
  try {
    result.textContent = await work();
    result.classList.add("good");
  } catch (error) {
    result.textContent = error.message;
    result.classList.add("bad");
  } finally {
    if (button) button.disabled = false;
  }
}
