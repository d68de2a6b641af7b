/*
 * The interactive calendars (SPEC §8): an equipment's week, day, month and list, and the
 * planning across equipment. Progressive enhancement: the page renders its own week grid;
 * this script replaces it with EventCalendar (static/vendor/event-calendar), reading its
 * settings from the JSON script named by the holder's data-calendar attribute.
 *
 * Select free time (drag, or click an hour) → the booking form, pre-filled.
 * Click a block → its details (full only for who may see them: the server decides).
 * Drag or resize one's own booking → PATCH /api/v1/reservations/<id>/ (every rule again);
 * refused, the message is shown next to the calendar and the block goes back.
 * Times travel as local wall-clock times without offset: the server reads them in
 * Europe/Paris. The server also says what the browser would only guess: Paris's offset
 * (`timeZone`: the now line and "today" are Paris's whatever the browser's zone), the
 * equipment's grid (`snap_minutes`), how long a click selects (`click_minutes`, per
 * equipment in the planning), and the view for narrow screens (`narrow_view`).
 */
(function () {
  "use strict";

  var holder = document.querySelector("[data-calendar]");
  if (!holder || !window.EventCalendar) {
    return;
  }
  var config = JSON.parse(document.getElementById(holder.getAttribute("data-calendar")).textContent);
  var words = config.words;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function localDay(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  function localTime(d) {
    return localDay(d) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function clock(minutes) {
    return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60) + ":00";
  }
  function csrfToken() {
    var field = holder.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // The server's own grid and pager give way to the calendar.
  (config.replaces || []).forEach(function (selector) {
    document.querySelectorAll(selector).forEach(function (node) {
      node.hidden = true;
      node.style.display = "none"; // `hidden` loses to a stylesheet's display
    });
  });
  var notice = holder.querySelector(".calendar-notice");
  var details = holder.querySelector(".calendar-details");
  var mount = holder.querySelector(".calendar-mount");
  holder.hidden = false;

  function say(text, isError) {
    notice.textContent = text;
    notice.className = "calendar-notice " + (isError ? "error" : "success");
    notice.setAttribute("role", isError ? "alert" : "status");
    notice.hidden = !text;
  }

  function showDetails(lines) {
    details.textContent = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      details.appendChild(p);
    });
    details.hidden = false;
  }

  function bookingUrl(equipment, start, end) {
    var query = new URLSearchParams();
    query.append("equipment", equipment);
    query.append("start", localTime(start));
    query.append("end", localTime(end));
    return config.book + "?" + query.toString();
  }

  function resourceOf(info) {
    return info.resource || null; // only in the planning's resource views
  }

  function openForm(start, end, resource) {
    var equipment = resource ? resource.id : config.equipment;
    var bookable = resource ? resource.extendedProps.bookable : config.selectable;
    if (!bookable) {
      say(words.notBookable, true);
      return;
    }
    window.location.assign(bookingUrl(equipment, start, end));
  }

  function move(info) {
    var reservation = info.event.extendedProps.reservation;
    if (info.newResource) {
      info.revert();
      say(words.otherEquipment, true);
      return;
    }
    say("", false);
    fetch(config.api + reservation + "/", {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify({ start: localTime(info.event.start), end: localTime(info.event.end) }),
    })
      .then(function (response) {
        return response.json().then(
          function (body) {
            return { ok: response.ok, body: body };
          },
          function () {
            return { ok: response.ok, body: {} };
          }
        );
      })
      .then(function (answer) {
        if (answer.ok) {
          say(words.moved, false);
          calendar.refetchEvents();
        } else {
          info.revert();
          say(answer.body.detail || words.refused, true);
        }
      })
      .catch(function () {
        info.revert();
        say(words.refused, true);
      });
  }

  function minutes(n) {
    return pad(Math.floor(n / 60)) + ":" + pad(n % 60);
  }
  function clickMinutes(resource) {
    return resource ? resource.extendedProps.click_minutes : config.click_minutes;
  }
  // Below 600 px a week's seven columns cut the day names and the blocks' titles.
  var narrow = window.matchMedia && window.matchMedia("(max-width: 599px)").matches;
  var options = {
    view: narrow && config.narrow_view ? config.narrow_view : config.view,
    timeZone: config.timeZone,
    date: narrow && config.narrow_view ? config.narrow_date : config.date,
    locale: document.documentElement.lang || "fr",
    firstDay: 1,
    height: "auto",
    allDaySlot: false,
    nowIndicator: true,
    headerToolbar: { start: "prev,next today", center: "title", end: config.views.join(",") },
    buttonText: function (text) {
      return Object.assign({}, text, words.buttons);
    },
    slotMinTime: clock(config.first_minute),
    slotMaxTime: clock(config.last_minute),
    scrollTime: clock(config.first_minute),
    selectable: true,
    // Each event's own `editable` (from the server) decides: a calendar-wide
    // eventStartEditable/eventDurationEditable would override it for every block.
    editable: false,
    snapDuration: minutes(config.snap_minutes),
    views: {
      // A week across many equipment: hours, not half-hours, to keep it readable.
      resourceTimelineWeek: { slotDuration: "01:00", slotWidth: 36 },
    },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    eventSources: [
      {
        events: function (info) {
          var query = config.events + "&start=" + localDay(info.start) + "&end=" + localDay(info.end);
          return fetch(query, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (response) {
              if (!response.ok) {
                throw new Error(String(response.status));
              }
              return response.json();
            })
            .catch(function () {
              say(words.unavailable, true);
              return [];
            });
        },
      },
    ],
    select: function (info) {
      if (info.allDay) {
        return;
      }
      calendar.unselect();
      openForm(info.start, info.end, resourceOf(info));
    },
    dateClick: function (info) {
      if (info.allDay || info.view.type.indexOf("dayGrid") === 0) {
        // A day of the month: look at it hour by hour.
        calendar.setOption("view", config.dayView);
        calendar.setOption("date", info.date);
        return;
      }
      var resource = resourceOf(info);
      var end = new Date(info.date.getTime() + clickMinutes(resource) * 60 * 1000);
      openForm(info.date, end, resource);
    },
    eventClick: function (info) {
      showDetails(info.event.extendedProps.lines || [info.event.title]);
    },
    eventDrop: move,
    eventResize: move,
    eventDidMount: function (info) {
      var lines = info.event.extendedProps.lines;
      if (lines) {
        info.el.setAttribute("title", lines.join(" · "));
      }
      if (info.event.extendedProps.reservation) {
        info.el.setAttribute("data-reservation", info.event.extendedProps.reservation);
      }
    },
  };
  if (config.resources) {
    options.resources = config.resources;
    options.resourceLabelContent = function (info) {
      // The equipment's name leads to its page, as in the server's grid.
      var link = document.createElement("a");
      link.href = info.resource.extendedProps.url;
      link.textContent = info.resource.title;
      return { domNodes: [link] };
    };
    options.resourceLabelDidMount = function (info) {
      if (!info.resource.extendedProps.bookable) {
        info.el.classList.add("resource-out-of-service");
      }
    };
  }
  var calendar = EventCalendar.create(mount, options);
  holder.calendar = calendar;

  // EventCalendar puts role="table" (or "list") on its root, around the toolbar's <nav>
  // (which a table or list may not hold), and its rows and cells do not match what is shown (the blocks sit beside the rows, the
  // month's days and the planning's equipment names outside any row): screen readers would
  // be told a broken table (axe: aria-required-children/-parent). The table roles go; the
  // blocks keep their names, the day headings their dates, the equipment names stay links.
  // Re-applied after every re-render.
  var gridRoles =
    "[role=table], [role=list], [role=row], [role=rowgroup], [role=cell], [role=columnheader], " +
    "[role=rowheader], [role=listitem], [aria-colindex]";
  var gridAttributes = ["role", "aria-colindex", "aria-colspan", "aria-rowindex", "aria-rowspan"];
  function fixRoles() {
    mount.querySelectorAll(gridRoles).forEach(function (node) {
      gridAttributes.forEach(function (name) {
        node.removeAttribute(name);
      });
    });
  }
  fixRoles();
  new MutationObserver(fixRoles).observe(mount, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["role"],
  });
})();
