// The dashboard: polls the hub's API and draws each section; asks for the token when needed.
import {SignInNeeded, api, forgetToken, hasToken, setToken} from "./api.js";
import {lastDays} from "./chart.js";
import {renderProviders} from "./providers.js";
import {renderRequests} from "./requests.js";
import {renderRouting} from "./routing.js";
import {redrawOnResize, renderSpend} from "./spend.js";
import {offerProviders, setupTryIt} from "./tryit.js";
import {words} from "./format.js";

const REFRESH_MS = 5000;
const RECENT_REQUESTS = 25;
const byId = (id) => document.getElementById(id);

let timer = null;
let running = false;
let again = false;
let lastUsage = null;
let providerNames = [];

async function refresh() {
  if (running) {
    again = true; // a change happened while reading: read once more right after
    return;
  }
  running = true;
  clearTimeout(timer);
  try {
    if (document.hidden) return;
    const since = `${lastDays(30)[0]}T00:00:00Z`;
    const [health, providers, usage, requests] = await Promise.all([
      api("health"),
      api("api/v1/providers"),
      api(`api/v1/usage?since=${encodeURIComponent(since)}`),
      api(`api/v1/requests?limit=${RECENT_REQUESTS}`),
    ]);
    showMain();
    providerNames = providers.providers.map((p) => p.name);
    showStatus(health);
    renderProviders(providers.providers, refresh);
    offerProviders(providerNames);
    lastUsage = usage;
    renderSpend(usage, providerNames);
    renderRequests(requests.requests);
    byId("problem").hidden = true;
    byId("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    if (!byId("routing-body").childElementCount) renderRouting(await api("api/v1/routing"));
  } catch (error) {
    if (error instanceof SignInNeeded) {
      askForToken(error.message);
      return;
    }
    const problem = byId("problem");
    problem.textContent = `Cannot read the hub: ${error.message}. Retrying every ${REFRESH_MS / 1000} s.`;
    problem.hidden = false;
  } finally {
    running = false;
    if (byId("token-form").hidden) timer = setTimeout(refresh, again ? 0 : REFRESH_MS);
    again = false;
  }
}

function showStatus(health) {
  const status = byId("status");
  status.className = `pill ${health.status}`;
  status.textContent = `hub ${words(health.status)}`;
  byId("footer").textContent = `AI Provider Hub ${health.version}`;
}

function showMain() {
  byId("token-form").hidden = true;
  byId("main").hidden = false;
  byId("sections").hidden = false;
}

function askForToken(message) {
  const hadToken = hasToken();
  forgetToken();
  byId("main").hidden = true;
  byId("sections").hidden = true;
  byId("status").className = "pill";
  byId("status").textContent = "signed out";
  const form = byId("token-form");
  form.hidden = false;
  const error = byId("token-error");
  error.hidden = !hadToken;
  error.textContent = hadToken ? `The hub refused the token: ${message}` : "";
  byId("token").focus();
}

function setup() {
  byId("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = byId("token").value.trim();
    if (!value) return;
    setToken(value);
    byId("token").value = "";
    refresh();
  });
  setupTryIt(refresh);
  redrawOnResize(() => lastUsage && renderSpend(lastUsage, providerNames));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  refresh();
}

setup();
