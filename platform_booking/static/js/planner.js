// The term planner's page while the worker solves a plan: ask the API for the plan's
// status every few seconds and reload the page once the solver has answered.
(function () {
  "use strict";
  var box = document.querySelector("[data-plan-poll]");
  if (!box) { return; }
  var url = box.getAttribute("data-plan-poll"), elapsed = box.querySelector("[data-plan-elapsed]");
  var began = Date.now();
  function check() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (plan) {
        if (plan && plan.status !== "solving") { window.location.reload(); return; }
        if (elapsed) { elapsed.textContent = Math.round((Date.now() - began) / 1000) + " s…"; }
        window.setTimeout(check, 2000);
      })
      .catch(function () { window.setTimeout(check, 5000); });
  }
  window.setTimeout(check, 1000);
})();
