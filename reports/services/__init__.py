"""Usage reports of SPEC §5: every figure computed by the database, grouped and clipped.

A report covers a window `[start, end)` of aware instants. A reservation counts when it
overlaps the window, and its hours are clipped to the window. The figures per group:

- `reservations`: pending, confirmed, completed and no-show reservations;
- `booked_hours`: confirmed, completed and no-show ones;
- `used_hours`: check-in to check-out (a check-in without check-out runs until the
  reservation's end, or now if earlier); without a check-in record, on equipment that
  does not require check-in, the booked hours of completed reservations;
- `billable_hours`: used hours plus the booked hours of no-shows;
- `no_shows`, `cancellations`, `late_cancellations` (cancelled less than the equipment's
  `late_cancellation_hours` before the start, or after it), `displaced`;
- `users`: distinct booking users of the counted reservations;
- `amount`: billable hours times the equipment's rate: `teaching` for pedagogical
  projects, else the rate of the partner's category (academic or industrial);
- with `equipment` among the dimensions, `open_hours` and `utilisation`.

What "now" changes (SPEC §5): a confirmed reservation of equipment that requires
check-in, not checked in once its grace has passed, is a no-show whether or not
`release_no_shows` has run; a confirmed reservation that has ended is completed.

Open hours are the equipment's opening hours (its effective policy, in local time)
inside the window, minus its closures (its own, its site's and the all-sites ones): time
the equipment could not be booked is not time it stood idle. Utilisation is booked hours
÷ open hours, capped at 1 (a manager's override can book outside opening hours), and 0
when the equipment had no open hours. Grouped by equipment and month, a row's open hours
are those of that local month.

Grouped by equipment alone or by equipment and month, equipment without reservations has
a row of zeros too (each month of the window, by month): the equipment the reader answers
for (all of it for the platform's managers, their own for equipment managers, none for a
referent), within the equipment filter, retired equipment only when it was booked; its
open hours count in the totals' utilisation.

A group's `month` is the local month (Europe/Paris) of the start of the reservation's
counted part: its start, or the window's start when it began before.

The database clips and sums durations exactly (to the microsecond) and counts; amounts
are sums of microseconds × cents per hour. Figures are rounded once, half up: hours to
2 decimals, euros to cents, utilisation to 4 decimals. A report is one aggregate query
(per group and per booking user, then per group and in total over that), plus a few
small lookups: a fixed number of queries whatever the data.

The package, by job: `scope` (who sees what, filters, the window), `reservation_sql`
(each reservation's status, durations and rate in SQL), `aggregation` (the grouped
query, names, order), `open_time` (open hours for utilisation), `report` (the grouped
report), `detail` (one row per reservation, streamed), `database` (reading every row on
PostgreSQL), `compiled` (the two queries' SQL compiled once per shape); rounding is
`reports.rounding`. Import from `reports.services`.
"""

from __future__ import annotations

from ..rounding import HOUR, euros, hours, ratio
from .aggregation import DIMENSIONS, KIND_ORDER
from .database import full_read, tune_for_full_reads
from .detail import DETAIL_COLUMNS, count_reservations, reservation_rows, reservation_rows_sql
from .open_time import open_time
from .report import EQUIPMENT_FIGURES, FIGURES, UsageReport, usage_report
from .reservation_sql import BOOKED, COUNTED
from .scope import Filters, Scope, report_scope

__all__ = [
    "BOOKED",
    "COUNTED",
    "DETAIL_COLUMNS",
    "DIMENSIONS",
    "EQUIPMENT_FIGURES",
    "FIGURES",
    "HOUR",
    "KIND_ORDER",
    "Filters",
    "Scope",
    "UsageReport",
    "count_reservations",
    "euros",
    "full_read",
    "hours",
    "open_time",
    "ratio",
    "report_scope",
    "reservation_rows",
    "reservation_rows_sql",
    "tune_for_full_reads",
    "usage_report",
]
