// Numbers as people read them; money with enough digits to be true.

/** Dollars: at least cents and at least three significant digits ($0.000123, $0.0450, $12.35). */
export function usd(value) {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "$0.00";
  const digits = Math.max(2, Math.min(8, 2 - Math.floor(Math.log10(Math.abs(value)))));
  return "$" + value.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
}

export function count(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US");
}

/** Large token counts compactly (12.3k). */
export function compact(value) {
  if (value === null || value === undefined) return "–";
  return Number(value).toLocaleString("en-US", {notation: "compact", maximumFractionDigits: 1});
}

export function ms(value) {
  if (value === null || value === undefined) return "–";
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10000 ? 2 : 1)} s`;
}

export function percent(share) {
  if (share === null || share === undefined) return "–";
  const value = share * 100;
  return `${value === 100 || value === 0 ? value : value.toFixed(1)} %`;
}

/** A time of day in the browser's zone, with the date when it is not today. */
export function clock(ts) {
  const when = new Date(ts * 1000);
  const time = when.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"});
  if (when.toDateString() === new Date().toDateString()) return time;
  return `${when.toLocaleDateString([], {month: "short", day: "numeric"})} ${time}`;
}

/** "provider_timeout" -> "provider timeout". */
export function words(key) {
  return String(key ?? "").replaceAll("_", " ");
}
