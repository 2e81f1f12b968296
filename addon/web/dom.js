// Building DOM nodes from data, never from markup strings: text is always text, so nothing the API says can run.
const SVG_NS = "http://www.w3.org/2000/svg";

function fill(el, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An HTML element: h("p", {class: "x"}, "text", h("b", {}, "bold")). */
export function h(tag, props, ...children) {
  return fill(document.createElement(tag), props, children);
}

/** An SVG element, same calling convention as h(). */
export function s(tag, props, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), props, children);
}

/** Replace the children of #id only when the data behind them changed (keeps focus and scroll). */
const rendered = new Map();
export function renderInto(id, data, build) {
  const key = JSON.stringify(data);
  if (rendered.get(id) === key) return;
  rendered.set(id, key);
  document.getElementById(id).replaceChildren(...[build(data)].flat());
}

/** Forget what renderInto() drew (e.g. after the window was resized). */
export function invalidate(id) {
  rendered.delete(id);
}
