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
      searchStatus.textContent = words.length ? String(shown) + " / " + String(items.length) : "";
    });
  }

  // --- term presets ---------------------------------------------------------------------
  var select = document.getElementById("id_term");
  var buttons = form.querySelector(".term-buttons");
  var termStatus = document.getElementById("term-status");
  var starts = JSON.parse((document.getElementById("holiday-starts") || {}).textContent || "[]");
  var lang = document.documentElement.lang || "fr";
  var longDate = new Intl.DateTimeFormat(lang, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  });

  function isoDay(value) { return (value || "").slice(0, 10); }
  function dayBefore(iso) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() - 1);
    return d.toISOString().slice(0, 10);
  }
  function nextDay(iso) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }

  if (select && buttons) {
    select.closest(".term-select").hidden = true;
    buttons.hidden = false;
    buttons.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-term]");
      if (!button) return;
      var day = isoDay(document.getElementById("id_start").value);
      if (!day) { termStatus.textContent = termStatus.getAttribute("data-nostart"); return; }
      var summer = button.getAttribute("data-term") === "school_year_end";
      var found = starts.filter(function (s) { return s.first > day && (!summer || s.summer); })[0];
      if (!found) { termStatus.textContent = termStatus.getAttribute("data-unknown"); return; }
      var last = dayBefore(found.first);
      document.getElementById("id_until").value = last;
      var byDate = form.querySelector("input[name=repeat_end][value=until]");
      if (byDate) byDate.checked = true;
      var repeat = form.querySelector("input[name=frequency]:checked");
      if (!repeat || repeat.value === "once") {
        var weekly = form.querySelector("input[name=frequency][value=weekly]");
        if (weekly) weekly.checked = true;
      }
      select.value = "";  // the date now says it; the server needs no preset
      termStatus.textContent = termStatus.getAttribute("data-set")
        .replace("%(day)s", longDate.format(new Date(last + "T00:00:00Z")));
    });
  }

  // --- free-time preview ----------------------------------------------------------------
  var panel = document.getElementById("free-time");
  var results = document.getElementById("free-time-results");
  var startInput = document.getElementById("id_start");
  var timer = null;
  var generation = 0;

  function hhmm(text) { return text.slice(11, 16); }
  function minutes(text, day) {
    var d = text.slice(0, 10);
    if (d < day) return 0;
    if (d > day) return 24 * 60;
    return parseInt(text.slice(11, 13), 10) * 60 + parseInt(text.slice(14, 16), 10);
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function draw(day, found) {
    results.textContent = "";
    results.appendChild(el("p", "free-time-day", longDate.format(new Date(day + "T00:00:00Z"))));
    found.forEach(function (entry) {
      var box = el("div", "free-time-item");
      box.setAttribute("data-equipment", entry.id);
      box.appendChild(el("h3", "", entry.label));
      if (!entry.data) {
        box.appendChild(el("p", "error", panel.getAttribute("data-failed")));
        results.appendChild(box);
        return;
      }
      var spans = entry.data.free.map(function (f) {
        return ["free", minutes(f.start, day), minutes(f.end, day)];
      }).concat(entry.data.busy.map(function (b) {
        return ["busy", minutes(b.start, day), minutes(b.end, day)];
      }));
      var low = Math.min.apply(null, [7 * 60].concat(spans.map(function (s) { return s[1]; })));
      var high = Math.max.apply(null, [20 * 60].concat(spans.map(function (s) { return s[2]; })));
      var bar = el("div", "day-bar");
      bar.setAttribute("aria-hidden", "true");
      spans.forEach(function (s) {
        if (s[2] <= s[1]) return;
        var seg = el("span", "seg seg-" + s[0]);
        seg.style.left = ((s[1] - low) * 100 / (high - low)) + "%";
        seg.style.width = ((s[2] - s[1]) * 100 / (high - low)) + "%";
        bar.appendChild(seg);
      });
      box.appendChild(bar);
      if (entry.data.free.length) {
        box.appendChild(el("p", "", panel.getAttribute("data-free") + " " + entry.data.free.map(function (f) {
          return hhmm(f.start) + "–" + hhmm(f.end);
        }).join(", ")));
      } else {
        box.appendChild(el("p", "", panel.getAttribute("data-none")));
      }
      if (entry.data.busy.length) {
        box.appendChild(el("p", "help", panel.getAttribute("data-busy") + " " + entry.data.busy.map(function (b) {
          var kind = panel.getAttribute("data-kind-" + b.kind) || b.kind;
          return hhmm(b.start) + "–" + hhmm(b.end) + " (" + kind + ")";
        }).join(", ")));
      }
      results.appendChild(box);
    });
  }

  function refresh() {
    var day = isoDay(startInput.value);
    var ticked = Array.prototype.slice.call(
      form.querySelectorAll("input[name=equipment]:checked")
    ).slice(0, 12);
    var mine = ++generation;
    if (!day || !ticked.length) {
      results.textContent = "";
      results.appendChild(el("p", "", panel.getAttribute("data-choose")));
      return;
    }
    var url = panel.getAttribute("data-url");
    Promise.all(ticked.map(function (box) {
      var label = form.querySelector("label[for='" + box.id + "']").textContent.trim();
      var query = "?start=" + day + "T00:00&end=" + nextDay(day) + "T00:00";
      return fetch(url.replace("/0/", "/" + box.value + "/") + query, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).catch(function () { return null; }).then(function (data) {
        return { id: box.value, label: label, data: data };
      });
    })).then(function (found) {
      if (mine === generation) draw(day, found);
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
