// The runs pages: progressive enhancement only; every page reads fine without it.
// Never builds HTML from data: text goes through textContent, elements are only toggled.
"use strict";
(function () {
  // The runs table: count the runs picked for comparison; the button works for 2 to 10.
  var form = document.getElementById("compare");
  if (form) {
    var button = form.querySelector("button");
    var count = form.querySelector(".compare-count");
    var update = function () {
      var n = document.querySelectorAll('input[name="runs"][form="compare"]:checked').length;
      button.disabled = n < 2 || n > 10;
      count.textContent = n === 0 ? "Pick 2–10 runs." : n + " selected" + (n > 10 ? " (at most 10)" : "");
    };
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches('input[name="runs"]')) { update(); }
    });
    update();
  }

  // Charts: a crosshair follows the pointer to the nearest point and the readout shows its value.
  document.querySelectorAll("svg.chart-svg").forEach(function (svg) {
    var circles = Array.prototype.slice.call(svg.querySelectorAll("circle[data-label]"));
    var line = svg.querySelector(".crosshair");
    var readout = svg.parentNode.querySelector(".readout");
    if (!circles.length || !line || !readout) { return; }
    var lit = [];
    svg.addEventListener("mousemove", function (event) {
      var box = svg.getBoundingClientRect();
      var view = svg.viewBox.baseVal;
      var x = (event.clientX - box.left) * view.width / box.width;
      var best = null;
      circles.forEach(function (c) {
        var d = Math.abs(c.cx.baseVal.value - x);
        if (best === null || d < best.d) { best = { d: d, x: c.cx.baseVal.value }; }
      });
      lit.forEach(function (c) { c.classList.remove("on"); });
      lit = circles.filter(function (c) { return c.cx.baseVal.value === best.x; });
      lit.forEach(function (c) { c.classList.add("on"); });
      line.setAttribute("x1", best.x);
      line.setAttribute("x2", best.x);
      line.classList.add("on");
      readout.textContent = lit.map(function (c) { return c.getAttribute("data-label"); }).join("  ·  ");
    });
    svg.addEventListener("mouseleave", function () {
      lit.forEach(function (c) { c.classList.remove("on"); });
      line.classList.remove("on");
    });
  });
})();
