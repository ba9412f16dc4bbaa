// Xinyou's admin, every page (templates/admin/base_site.html, deferred).
"use strict";
// Django's two-list selector (SelectFilter2.js, run on "load") labels its search icon with
// aria-label on a plain <span>, which ARIA does not allow (axe: aria-prohibited-attr):
// the icon is an image whose name is that label. This script is deferred, so its "load"
// listener runs after Django's.
window.addEventListener("load", function () {
  document.querySelectorAll(".selector .search-label-icon[aria-label]").forEach(function (icon) {
    icon.setAttribute("role", "img");
  });
});
