// The resident app's pictures: line icons drawn as inline SVG (they take the text colour)
// and the offer categories' illustrations (img/category/<category>.svg, vendored files).

import { h } from "../common.js";

const SVG = "http://www.w3.org/2000/svg";

// 24×24 strokes, round caps (the tab bar's icons are in templates/web/resident.html)
const ICONS = {
  check: ["M5 12.5l4.5 4.5L19 7.5"],
  cross: ["M7 7l10 10", "M17 7L7 17"],
  back: ["M15 5l-7 7 7 7"],
  forward: ["M5 12h13", "M13 6l6 6-6 6"],
  chevron: ["M9 6l6 6-6 6"],
  info: ["M12 11v6", "M12 7.5v.5", "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z"],
};

/** An inline SVG icon, decorative (aria-hidden): icon("check"). */
export function icon(name, cls = "") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `icon icon-${name} ${cls}`.trim());
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const CATEGORIES = ["scenic", "hotel", "shopping", "dining", "transport", "culture", "other"];

/** The illustration of an offer category (decorative: the category is also in text). */
export function categoryArt(category, cls = "cat-art") {
  const name = CATEGORIES.includes(category) ? category : "other";
  const src = new URL(`../img/category/${name}.svg`, import.meta.url).pathname;
  return h("img", { class: cls, src, alt: "", width: 64, height: 64, loading: "lazy", decoding: "async", "data-test": "category-art" });
}

