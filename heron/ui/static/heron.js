// Heron's UI: progressive enhancement only; every page reads fine without it.
// Never builds HTML from data: elements are found and toggled, text goes through textContent.
"use strict";
(function () {
  var root = document.documentElement;
  var details = document.querySelectorAll(".span-detail");
  if (!details.length) { return; }
  root.classList.add("js");

  function select(spanId, focus) {
    var found = false;
    document.querySelectorAll("[data-span-id]").forEach(function (el) {
      var on = el.getAttribute("data-span-id") === spanId;
      if (el.classList.contains("span-detail") && on) { found = true; }
      el.classList.toggle("selected", on);
    });
    if (!found) { return false; }
    if (window.history && history.replaceState) { history.replaceState(null, "", "#span-" + spanId); }
    if (focus) {
      var link = document.querySelector('.tree .span-link[data-span-id="' + CSS.escape(spanId) + '"]');
      if (link) { link.focus(); }
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-span-id]") : null;
    if (!link) { return; }
    event.preventDefault();
    select(link.getAttribute("data-span-id"), false);
  });

  // Keyboard: up/down move through the visible spans of the tree, Enter selects (links do that already).
  document.addEventListener("keydown", function (event) {
    var current = document.activeElement;
    if (!current || !current.classList.contains("span-link")) { return; }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var links = Array.prototype.filter.call(document.querySelectorAll(".tree .span-link"), function (a) {
      return a.offsetParent !== null;
    });
    var at = links.indexOf(current);
    var next = links[at + (event.key === "ArrowDown" ? 1 : -1)];
    if (next) {
      event.preventDefault();
      next.focus();
      select(next.getAttribute("data-span-id"), false);
    }
  });

  var hash = window.location.hash.replace(/^#span-/, "");
  if (!(hash && select(decodeURIComponent(hash), false))) {
    select(details[0].getAttribute("data-span-id"), false);
  }
})();
