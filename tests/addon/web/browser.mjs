// Drives the dashboard in Debian's headless Chromium (playwright-core, no browser download).
// Usage: node browser.mjs CONFIG.json REPORT.json SCENARIO   (SCENARIO: ingress | token)
// It acts as a person would (clicks, types, waits for what the page shows), steers the
// simulated vendors over their control routes, and writes what it saw to REPORT.json; the
// pytest side compares that with what the hub's API says.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {chromium} from "playwright-core";

const [configPath, reportPath, scenario] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, "utf8"));
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const DESKTOP = {width: 1280, height: 900};
const PHONE = {width: 390, height: 844};
const report = {scenario, console: [], pageErrors: [], requests: [], failedRequests: [], steps: {}};

async function hubApi(path, {method = "GET", body} = {}) {
  const response = await fetch(new URL(path, config.hub_url), {
    method,
    headers: {Authorization: `Bearer ${config.token}`, "Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {status: response.status, body: await response.json()};
}

async function fault(vendor, fault, always = true) {
  await fetch(`${config.fakes[vendor]}/_fake/fault`, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({fault, always}),
  });
}

function listen(page) {
  page.on("console", (message) => {
    if (["error", "warning"].includes(message.type())) {
      report.console.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => report.pageErrors.push(String(error)));
}

function watch(context) {
  context.on("request", (request) => report.requests.push(request.url()));
  context.on("requestfailed", (request) =>
    report.failedRequests.push(`${request.url()} ${request.failure()?.errorText}`),
  );
  context.pages().forEach(listen);
  context.on("page", listen);
}

async function shoot(page, name, viewport, colorScheme) {
  await page.setViewportSize(viewport);
  await page.emulateMedia({colorScheme});
  await page.waitForTimeout(400); // the chart redraws at the new width
  const path = join(config.artifacts, `${name}.png`);
  await page.screenshot({path, fullPage: true});
  return path;
}

async function cardFacts(page) {
  return page.$$eval(".card", (cards) =>
    cards.map((card) => ({
      name: card.querySelector("h3").textContent,
      state: [...card.classList].find((c) => c.startsWith("state-"))?.slice(6),
      pill: card.querySelector(".pill").textContent,
      reason: card.querySelector(".reason").hidden ? null : card.querySelector(".reason").textContent,
      key: card.querySelectorAll(".facts dd")[5].textContent,
      spend: card.querySelectorAll(".facts dd")[4].textContent,
    })),
  );
}

async function pageFacts(page) {
  return {
    cards: await cardFacts(page),
    gauges: await page.$$eval(".gauge", (gauges) =>
      gauges.map((g) => ({title: g.querySelector("h3").textContent, big: g.querySelector(".big").textContent, text: g.textContent})),
    ),
    bars: await page.$$eval("#chart rect.col", (rects) =>
      rects.map((r) => ({day: r.dataset.day, provider: r.dataset.provider, height: Number(r.getAttribute("height"))})),
    ),
    byTag: await page.$$eval("#by-tag tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))),
    byModel: await page.$$eval("#by-model tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))),
    requests: await page.$$eval("#request-list tbody tr", (rows) =>
      rows.map((r) => ({id: r.dataset.request, cells: [...r.cells].map((c) => c.textContent)})),
    ),
    routing: await page.$eval("#routing-body", (box) => box.textContent),
    status: await page.$eval("#status", (s) => s.textContent),
  };
}

async function transfer(page) {
  return page.evaluate(() => {
    const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
    const files = entries.filter((e) => e.entryType === "navigation" || e.name.includes("/static/"));
    const sum = (list, key) => list.reduce((total, e) => total + e[key], 0);
    return {
      files: files.map((e) => ({name: e.name.split("/").pop() || "index.html", transfer: e.transferSize, body: e.encodedBodySize})),
      page_transfer: sum(files, "transferSize"),
      page_body: sum(files, "encodedBodySize"),
      all_transfer: sum(entries, "transferSize"),
    };
  });
}

async function ingressScenario(page) {
  const started = Date.now();
  await page.goto(config.ingress_url, {waitUntil: "load", timeout: 60000});
  await page.waitForFunction((n) => document.querySelectorAll(".card").length === n && document.querySelector("#chart svg"), config.providers, {timeout: 60000});
  report.steps.first_render_ms = Date.now() - started;
  report.steps.transfer = await transfer(page);
  report.steps.initial = await pageFacts(page);

  // A provider the simulator fails: one request fails over, the card turns down with the reason.
  await fault("openai", "server_error");
  const failover = await hubApi("api/v1/chat", {method: "POST", body: {prompt: "Failover please", tag: "e2e"}});
  const failed = Date.now();
  await page.waitForSelector("#provider-openai.state-down", {timeout: config.refresh_ms + 2000});
  report.steps.down = {
    seen_after_ms: Date.now() - failed,
    failover,
    card: (await cardFacts(page)).find((c) => c.name === "openai"),
  };
  // The page may have polled between the two attempts (the second provider's library loads on
  // its first call): wait for the row that shows the answer too.
  await page.waitForFunction(
    (id) => document.querySelector(`#request-list tr[data-request="${id}"]`)?.textContent.includes("✓"),
    failover.body.request_id,
    {timeout: 2 * config.refresh_ms + 2000},
  );
  report.steps.failover_row = (await pageFacts(page)).requests.find((r) => r.id === failover.body.request_id);

  // Four more calls pinned to it fail in a row: its circuit opens, and the card says why.
  for (let i = 0; i < 4; i += 1) {
    await hubApi("api/v1/chat", {method: "POST", body: {prompt: "Still there?", provider: "openai"}});
  }
  await page.waitForSelector("#provider-openai.state-circuit_open", {timeout: config.refresh_ms + 2000});
  report.steps.circuit = (await cardFacts(page)).find((c) => c.name === "openai");

  // Set a key through the form: stored, and the card shows it masked.
  const card = page.locator("#provider-gemini");
  await card.getByRole("button", {name: /set key|replace key/i}).click();
  await card.getByLabel("New API key for gemini").fill(config.new_key);
  await card.getByRole("button", {name: "Test this key"}).click();
  await card.locator(".result.good").waitFor({timeout: 30000});
  report.steps.key_test = await card.locator(".result").textContent();
  await card.getByRole("button", {name: "Save key"}).click();
  await card.locator(".result.good", {hasText: "Key saved"}).waitFor({timeout: 30000});
  report.steps.key = {
    result: await card.locator(".result").textContent(),
    shown: await card.locator(".facts dd").nth(5).textContent(),
    form_hidden: await card.locator("form.keyform").isHidden(),
    input_value: await card.getByLabel("New API key for gemini", {includeHidden: true}).inputValue(),
    in_page: (await page.content()).includes(config.new_key),
    in_storage: await page.evaluate((key) => JSON.stringify({...sessionStorage, ...localStorage}).includes(key), config.new_key),
    api: (await hubApi("api/v1/providers")).body.providers.find((p) => p.name === "gemini").api_key,
  };

  // Try it, pinned to the local provider.
  await page.getByLabel("Prompt", {exact: true}).fill("Say hello in five words");
  await page.getByLabel("Provider", {exact: true}).selectOption("ollama");
  await page.getByRole("button", {name: "Send"}).click();
  await page.locator("#try-result .answer").waitFor({timeout: 30000});
  report.steps.try_it = {
    text: await page.locator("#try-result .answer .text").textContent(),
    meta: await page.locator("#try-result .answer .muted").textContent(),
  };
  await page.waitForSelector("#by-tag tbody tr >> text=dashboard", {timeout: config.refresh_ms + 2000});

  // Sorting a table by a column.
  await page.locator("#by-model th button", {hasText: "Requests"}).click();
  report.steps.sorted = {
    sort: await page.locator("#by-model th[aria-sort]").getAttribute("aria-sort"),
    column: await page.locator("#by-model th[aria-sort]").textContent(),
    values: await page.$$eval("#by-model tbody tr", (rows) => rows.map((r) => r.cells[1].textContent)),
  };

  report.steps.final = await pageFacts(page);
  report.screenshots = [
    await shoot(page, "dashboard-light-desktop", DESKTOP, "light"),
    await shoot(page, "dashboard-dark-desktop", DESKTOP, "dark"),
    await shoot(page, "dashboard-light-phone", PHONE, "light"),
    await shoot(page, "dashboard-dark-phone", PHONE, "dark"),
  ];
  report.steps.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

async function tokenScenario(page, context) {
  await page.goto(config.hub_url, {waitUntil: "load", timeout: 60000});
  await page.locator("#token-form").waitFor({timeout: 30000});
  report.steps.asked = await page.locator("#main").isHidden();
  await page.getByLabel("API token").fill("not-the-token");
  await page.getByRole("button", {name: "Open the dashboard"}).click();
  await page.locator("#token-error").waitFor({timeout: 30000});
  report.steps.refused = await page.locator("#token-error").textContent();
  await page.getByLabel("API token").fill(config.token);
  await page.getByRole("button", {name: "Open the dashboard"}).click();
  await page.waitForFunction((n) => document.querySelectorAll(".card").length === n, config.providers, {timeout: 60000});
  report.steps.signed_in = await page.locator("#token-form").isHidden();
  report.steps.storage = await page.evaluate(() => ({session: {...sessionStorage}, local: {...localStorage}, cookies: document.cookie}));
  await page.reload({waitUntil: "load"});
  await page.waitForFunction((n) => document.querySelectorAll(".card").length === n, config.providers, {timeout: 60000});
  report.steps.kept_after_reload = await page.locator("#token-form").isHidden();
  const other = await context.newPage(); // a new tab has its own session storage
  await other.goto(config.hub_url, {waitUntil: "load", timeout: 60000});
  await other.locator("#token-form").waitFor({timeout: 30000});
  report.steps.new_tab_asks = await other.locator("#token-form").isVisible();
  report.screenshots = [await shoot(other, "sign-in-light-phone", PHONE, "light")];
  await other.close();
}

const profile = mkdtempSync(join(tmpdir(), "hub-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: config.chromium,
    headless: true,
    args: FLAGS,
    viewport: DESKTOP,
    colorScheme: "light",
  });
  watch(context);
  const page = context.pages()[0] ?? (await context.newPage());
  if (scenario === "ingress") await ingressScenario(page);
  else await tokenScenario(page, context);
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error?.stack ?? error);
} finally {
  await context?.close();
  rmSync(profile, {recursive: true, force: true});
  writeFileSync(reportPath, JSON.stringify(report, null, 2));
}
process.exit(report.ok ? 0 : 1);
