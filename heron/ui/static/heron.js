// Heron's UI: progressive enhancement only; every page reads fine without it.
// Never builds HTML from data: rows fetched as JSON are built with createElement and textContent, and
// the parts fetched as HTML are rendered (and escaped) by the server's templates, parsed with DOMParser
// (which runs no script) and moved into the page.
"use strict";
(function () {
  var root = document.documentElement;

  function fetchPart(url, selector) {
    return fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (text) {
      var found = new DOMParser().parseFromString(text, "text/html").querySelector(selector);
      if (!found) { throw new Error("missing " + selector); }
      return document.importNode(found, true);
    });
  }

  // ------------------------------------------------------------------ traces page: the summary strip
  var summary = document.querySelector(".summary[data-summary-url]");
  if (summary) {
    fetchPart(summary.getAttribute("data-summary-url"), "#summary").then(function (part) {
      summary.replaceWith(part);
    }).catch(function () { /* the link to the summary page stays */ });
  }

  // ------------------------------------------------------------------ trace page
  var details = document.querySelector(".details");
  if (!details || !document.querySelector(".span-detail")) { return; }
  root.classList.add("js");
  var lazyBase = details.getAttribute("data-lazy");  // set on large traces: details come one at a time
  var layout = document.querySelector(".trace-layout");
  var loading = {};

  function detailOf(spanId) {
    return details.querySelector('.span-detail[data-span-id="' + CSS.escape(spanId) + '"]');
  }

  function mark(spanId) {
    document.querySelectorAll("[data-span-id]").forEach(function (el) {
      el.classList.toggle("selected", el.getAttribute("data-span-id") === spanId);
    });
    if (window.history && history.replaceState) {
      history.replaceState(null, "", window.location.pathname + window.location.search + "#span-" + spanId);
    }
  }

  function select(spanId, focus) {
    if (detailOf(spanId)) {
      mark(spanId);
    } else if (lazyBase && !loading[spanId]) {
      loading[spanId] = true;
      fetchPart(lazyBase + encodeURIComponent(spanId), ".span-detail").then(function (part) {
        if (!detailOf(spanId)) { details.appendChild(part); }
        mark(spanId);
      }).catch(function () { window.location.search = "?span=" + encodeURIComponent(spanId); })
        .then(function () { delete loading[spanId]; });
    } else {
      return false;
    }
    if (focus) {
      var link = document.querySelector('.tree .span-link[data-span-id="' + CSS.escape(spanId) + '"]');
      if (link) { link.focus(); }
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var twisty = target.closest ? target.closest(".twisty") : null;
    if (twisty) { toggle(twisty.parentNode); return; }
    var more = target.closest ? target.closest("a.more-spans") : null;
    if (more && layout.hasAttribute("data-next-offset")) { event.preventDefault(); loadMore(); return; }
    var link = target.closest ? target.closest("a[data-span-id]") : null;
    if (!link) { return; }
    event.preventDefault();
    select(link.getAttribute("data-span-id"), false);
  });

  // Keyboard: up/down move through the visible spans of the tree; left/right collapse and expand.
  document.addEventListener("keydown", function (event) {
    var current = document.activeElement;
    if (!current || !current.classList.contains("span-link")) { return; }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      var row = current.parentNode;
      var button = row.querySelector(".twisty");
      var closed = row.classList.contains("collapsed");
      if (button && closed === (event.key === "ArrowRight")) { event.preventDefault(); toggle(row); }
      var box = current.closest("details");
      if (box && box.parentNode.closest(".tree") && current.closest("summary")) {
        event.preventDefault();
        box.open = event.key === "ArrowRight";
      }
      return;
    }
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

  // ------------------------------------------------------------------ large traces: rows on demand
  var treeList = document.querySelector(".tree.flat");
  var timeline = document.querySelector(".timeline");

  function toggle(row) {
    var closed = !row.classList.contains("collapsed");
    row.classList.toggle("collapsed", closed);
    var button = row.querySelector(".twisty");
    button.setAttribute("aria-expanded", String(!closed));
    button.setAttribute("aria-label", closed ? "Expand" : "Collapse");
    button.textContent = closed ? "▸" : "▾";
    refresh();
  }

  // hide the rows under a collapsed row (tree and timeline rows are in the same order)
  function refresh() {
    var rows = treeList.children;
    var bars = timeline.children;
    var hideBelow = -1;
    for (var i = 0; i < rows.length; i++) {
      var depth = Number(rows[i].getAttribute("data-depth"));
      var hidden = hideBelow >= 0 && depth > hideBelow;
      if (!hidden) { hideBelow = rows[i].classList.contains("collapsed") ? depth : -1; }
      rows[i].classList.toggle("hidden", hidden);
      if (bars[i]) { bars[i].classList.toggle("hidden", hidden); }
    }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function spanLink(cls, row) {
    var link = el("a", cls);
    link.href = "?span=" + encodeURIComponent(row.span_id) + "#span-" + row.span_id;
    link.setAttribute("data-span-id", row.span_id);
    return link;
  }

  function addRow(row) {
    var status = row.status === "ERROR" ? "error" : "ok";
    var item = el("li", "orow");
    item.setAttribute("role", "treeitem");
    item.setAttribute("data-depth", String(row.depth));
    item.style.paddingLeft = (row.depth * 14) + "px";
    if (row.has_children) {
      var button = el("button", "twisty", "▾");
      button.type = "button";
      button.setAttribute("aria-expanded", "true");
      button.setAttribute("aria-label", "Collapse");
      item.appendChild(button);
    } else {
      item.appendChild(el("span", "twisty-space"));
    }
    var link = spanLink("span-link", row);
    link.appendChild(el("span", "dot status-" + status));
    link.appendChild(el("span", "span-name", row.name));
    link.appendChild(document.createTextNode(" "));
    link.appendChild(el("span", "span-type", row.span_type));
    link.appendChild(document.createTextNode(" "));
    link.appendChild(el("span", "muted", row.duration));
    item.appendChild(link);
    treeList.appendChild(item);

    var bar = el("li", "tl-row");
    bar.setAttribute("data-span-id", row.span_id);
    var label = spanLink("tl-label", row);
    label.textContent = row.name;
    label.style.paddingLeft = (row.depth * 0.8) + "rem";
    var track = el("span", "tl-track");
    var fill = el("span", "tl-bar status-" + status);
    fill.style.left = row.offset_pct + "%";
    fill.style.width = row.width_pct + "%";
    fill.title = row.duration;
    track.appendChild(fill);
    bar.appendChild(label);
    bar.appendChild(track);
    bar.appendChild(el("span", "tl-dur", row.duration));
    timeline.appendChild(bar);
  }

  var fetching = false;
  function loadMore() {
    var next = layout.getAttribute("data-next-offset");
    if (fetching || next === null) { return; }
    fetching = true;
    var url = layout.getAttribute("data-outline-url") + "?offset=" + encodeURIComponent(next) + "&limit=1000";
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (page) {
      page.rows.forEach(addRow);
      if (page.next === null) {
        layout.removeAttribute("data-next-offset");
        var more = document.querySelector("a.more-spans");
        if (more) { more.parentNode.remove(); }
      } else {
        layout.setAttribute("data-next-offset", String(page.next));
      }
      refresh();
    }).catch(function () { /* the "More spans" link still works as a link */ })
      .then(function () { fetching = false; watch(); });
  }

  // fetch the next rows when the end of the tree scrolls into view
  var observer = null;
  function watch() {
    var more = document.querySelector("a.more-spans");
    if (!more || !("IntersectionObserver" in window)) { return; }
    if (!observer) {
      observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) { loadMore(); }
      }, { root: document.querySelector(".tree-panel"), rootMargin: "400px" });
    }
    observer.disconnect();
    observer.observe(more);
  }
  if (treeList && timeline && layout) { watch(); }

  var hash = window.location.hash.replace(/^#span-/, "");
  var first = details.querySelector(".span-detail");
  if (!(hash && detailOf(decodeURIComponent(hash)) && select(decodeURIComponent(hash), false))) {
    mark(first.getAttribute("data-span-id"));
  }
})();
