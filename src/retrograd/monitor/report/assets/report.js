// retrograd training report: the page's few interactions, on elements drawn by the server.
// Legend buttons show or hide a chart's series; toggle groups switch between views
// (heatmap metric, histogram kind); the step slider highlights one logged step in every
// histogram ridgeline and shows its numbers.
(function () {
  "use strict";

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function initLegends() {
    all(".legend-item").forEach(function (button) {
      button.addEventListener("click", function () {
        var on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", on ? "true" : "false");
        var selector = '.series[data-chart="' + button.dataset.chart + '"][data-series="' +
          button.dataset.series + '"]';
        all(selector).forEach(function (g) { g.classList.toggle("off", !on); });
      });
    });
  }

  function initToggles() {
    all(".toggles").forEach(function (group) {
      var buttons = all("button", group);
      buttons.forEach(function (button) {
        button.addEventListener("click", function () {
          buttons.forEach(function (b) {
            var active = b === button;
            b.classList.toggle("active", active);
            b.setAttribute("aria-pressed", active ? "true" : "false");
            var view = document.getElementById(b.dataset.view);
            if (view) { view.classList.toggle("active", active); }
          });
        });
      });
    });
  }

  function selectStep(index) {
    var slider = document.getElementById("step-slider");
    var steps = JSON.parse(slider.dataset.steps);
    document.getElementById("step-value").textContent = "step " + steps[index];
    all("path.ridge").forEach(function (ridge) {
      var here = Number(ridge.dataset.stepIndex) === index;
      ridge.classList.toggle("selected", here);
      ridge.classList.toggle("dimmed", !here);
    });
    all(".hist-card").forEach(function (card) {
      var stats = JSON.parse(card.dataset.stats);
      card.querySelector(".hist-caption").textContent = stats[index];
    });
  }

  function initSlider() {
    var slider = document.getElementById("step-slider");
    if (!slider) { return; }
    slider.addEventListener("input", function () { selectStep(Number(slider.value)); });
    selectStep(Number(slider.value));
  }

  document.documentElement.classList.add("js");
  initLegends();
  initToggles();
  initSlider();
  document.body.dataset.ready = "true";
})();
