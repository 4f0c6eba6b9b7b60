// ecoute dashboard: a convenience on top of pages that work without this file.
// Chart points carry the address of the verbatims behind them (data-href): clicking one
// opens them. The table beside each chart has the same links for keyboards and screen
// readers. Filters are not applied on change: a page that reloads while someone moves
// through a list with the arrow keys is disorienting (WCAG 3.2.2); they have a button.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart [data-href]").forEach(function (point) {
    point.classList.add("clickable");
    point.addEventListener("click", function () {
      window.location.assign(point.getAttribute("data-href"));
    });
  });
});
