// The booking form, made quicker with JavaScript; without it every part still works:
// all equipment checkboxes show, the term preset is a select read by the server, and
// "Show free time" sends the form back with the free time.
(function () {
  "use strict";
  var form = document.getElementById("booking-form");
  if (!form) return;

  function fold(text) {
    // Lower case without accents: "Rhéomètre" is found by "rheometre".
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  // --- equipment search -----------------------------------------------------------------
  var search = document.getElementById("equipment-search");
  var searchStatus = document.getElementById("equipment-search-status");
  var items = Array.prototype.slice.call(form.querySelectorAll(".equipment-list li"));
  var groups = Array.prototype.slice.call(form.querySelectorAll("#equipment-choices [data-group]"));
  if (search) {
    search.closest(".equipment-search").hidden = false;
    search.addEventListener("input", function () {
      var words = fold(search.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      items.forEach(function (li) {
        var text = li.getAttribute("data-search");
        var ticked = li.querySelector("input").checked;  // a ticked one never hides
        var match = ticked || words.every(function (w) { return text.indexOf(w) !== -1; });
        li.hidden = !match;
        if (match) shown += 1;
      });
      // Deepest groups first: a site hides when all its categories do.
      groups.slice().reverse().forEach(function (group) {
        group.hidden = !group.querySelector("li:not([hidden])");
      });
      // "3 of 20 shown", in the page's language: the server writes the words, this the numbers.
      searchStatus.textContent = words.length
        ? searchStatus.getAttribute("data-pattern")
            .replace("{shown}", String(shown))
            .replace("{total}", String(items.length))
        : "";
    });
  }

  // --- term presets: the server reads the zone B calendar -----------------------------
  var select = document.getElementById("id_term");
  var buttons = form.querySelector(".term-buttons");
  var termStatus = document.getElementById("term-status");

  function isoDay(value) { return (value || "").slice(0, 10); }

  if (select && buttons) {
    select.closest(".term-select").hidden = true;
    buttons.hidden = false;
    buttons.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-term]");
      if (!button) return;
      var start = document.getElementById("id_start").value;
      if (!start) { termStatus.textContent = termStatus.getAttribute("data-nostart"); return; }
      var query = new URLSearchParams({ term: button.getAttribute("data-term"), start: start });
      fetch(termStatus.getAttribute("data-url") + "?" + query.toString(), {
        credentials: "same-origin", headers: { Accept: "application/json" },
      }).then(function (response) {
        if (response.redirected) throw new Error("logged out");
        return response.json();
      }).then(function (answer) {
        if (!answer.until) { termStatus.textContent = answer.detail; return; }
        document.getElementById("id_until").value = answer.until;
        var byDate = form.querySelector("input[name=repeat_end][value=until]");
        if (byDate) byDate.checked = true;
        var repeat = form.querySelector("input[name=frequency]:checked");
        if (!repeat || repeat.value === "once") {
          var weekly = form.querySelector("input[name=frequency][value=weekly]");
          if (weekly) weekly.checked = true;
        }
        select.value = "";  // the date now says it; the server needs no preset
        termStatus.textContent = answer.words;
      }).catch(function () {
        termStatus.textContent = termStatus.getAttribute("data-failed");
      });
    });
  }

  // --- free-time preview: the server draws it (the same fragment as without script) ---
  var panel = document.getElementById("free-time");
  var results = document.getElementById("free-time-results");
  var startInput = document.getElementById("id_start");
  var timer = null;
  var generation = 0;

  function refresh() {
    var mine = ++generation;
    var query = new URLSearchParams();
    query.set("start", startInput.value || "");
    form.querySelectorAll("input[name=equipment]:checked").forEach(function (box) {
      query.append("equipment", box.value);
    });
    fetch(panel.getAttribute("data-url") + "?" + query.toString(), {
      credentials: "same-origin", headers: { Accept: "text/html" },
    }).then(function (response) {
      // A session that ended answers the login page through a redirect: not a preview.
      if (!response.ok || response.redirected) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      if (mine === generation) results.innerHTML = html;
    }).catch(function () {
      if (mine !== generation) return;
      results.textContent = "";
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = panel.getAttribute("data-failed");
      results.appendChild(p);
    });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  if (panel && results && startInput) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "equipment" || event.target === startInput) later();
    });
    startInput.addEventListener("input", later);
    if (startInput.value && form.querySelector("input[name=equipment]:checked")) refresh();
  }
})();
