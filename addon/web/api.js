// The hub's JSON API, by relative URL (right under the ingress prefix too).
// Through Home Assistant ingress no token is needed; elsewhere the page asks for it once and
// keeps it in sessionStorage (this tab only).
const STORE = "ai-provider-hub-token";

export class SignInNeeded extends Error {}

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.key = body?.error?.key;
    this.body = body;
  }
}

function token() {
  return sessionStorage.getItem(STORE);
}

export function hasToken() {
  return Boolean(token());
}

export function setToken(value) {
  sessionStorage.setItem(STORE, value);
}

export function forgetToken() {
  sessionStorage.removeItem(STORE);
}

export async function api(path, {method = "GET", body} = {}) {
  const headers = {Accept: "application/json"};
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "same-origin",
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.status === 401) throw new SignInNeeded(data?.error?.message ?? "Unauthorized");
  if (!response.ok) {
    throw new ApiError(data?.error?.message ?? `HTTP ${response.status}`, response.status, data);
  }
  return data;
}
