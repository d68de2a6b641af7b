// Behaviour of the layout, in a file so that the Content Security Policy can forbid
// inline scripts. Loaded right after the header (not deferred), as the inline script was.
(function () {
  "use strict";
  // Collapse the menu behind its button on narrow screens, show it open on wide ones.
  var menu = document.getElementById("nav-menu"), narrow = window.matchMedia("(max-width: 760px)");
  function fit() { if (menu) { menu.open = !narrow.matches; } }
  fit();
  narrow.addEventListener("change", fit);
  // The language selector submits its form when changed (a button for no JavaScript).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Read-only addresses to copy (feed URLs) are selected whole on click.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.matches("input[data-select-on-click]")) {
      target.select();
    }
  });
})();
