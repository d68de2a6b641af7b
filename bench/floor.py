"""The framework's floor: DRF views that run exactly the hand-written SQL and nothing else.

Mounted beside the project's URLs for the benchmark only (`urlpatterns`, the suite's
ROOT_URLCONF). Each goes through the same middleware, token authentication, permission,
parser and renderer as the API, then runs the benchmark's own SQL through Django's
connection and answers its rows. What such a view costs is the least any request of this
stack can cost for that SQL: its ratio to the SQL alone bounds the ratio the real
endpoint can reach, whatever its own code does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from platform_booking.urls import urlpatterns as project_urlpatterns

# Set by the suite before it measures (what the hand-written SQL knows beforehand).
MONTH_SQL = ""
LONGEST = timedelta(hours=8)
PROJECT_KIND = ""


class MonthFloor(APIView):
    def get(self, request: Request) -> Response:
        params = request.query_params
        from django.utils.dateparse import parse_datetime

        start, end = parse_datetime(params["start"]), parse_datetime(params["end"])
        assert start is not None and end is not None
        with connection.cursor() as cursor:
            cursor.execute(
                MONTH_SQL,
                {
                    "pk": int(params["equipment"]),
                    "from": start,
                    "to": end,
                    "lowest": start - LONGEST,
                },
            )
            names = [c[0] for c in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return Response(rows)


class BookingFloor(APIView):
    def post(self, request: Request) -> Response:
        from django.utils.dateparse import parse_datetime

        data = request.data
        pk, project = int(data["equipment"]), int(data["project"])
        start, end = parse_datetime(data["start"]), parse_datetime(data["end"])
        assert start is not None and end is not None
        user = request.user.pk
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT requires_qualification, site_id FROM equipment_equipment "
                "WHERE id = %s FOR UPDATE",
                (pk,),
            )
            row = cursor.fetchone()
            if row is None:
                return Response({"code": "invalid"}, status=400)
            if row[0]:
                cursor.execute(
                    "SELECT valid_until FROM equipment_qualification "
                    "WHERE user_id = %s AND equipment_id = %s",
                    (user, pk),
                )
                valid = cursor.fetchone()
                if valid is None or valid[0] < end.date():
                    return Response({"code": "not_qualified"}, status=400)
            cursor.execute(
                "SELECT 1 FROM reservations_reservation WHERE equipment_id = %s "
                "AND status IN ('pending', 'confirmed') AND start < %s "
                "AND blocked_until > %s AND start > %s LIMIT 1",
                (pk, end, start, start - LONGEST),
            )
            if cursor.fetchone() is not None:
                return Response({"code": "conflict"}, status=409)
            cursor.execute(
                """
                INSERT INTO reservations_reservation
                    (equipment_id, project_id, booked_by_id, start, "end", blocked_until,
                     title, expected_participants, status, priority, revision,
                     status_changed_at, created_at, updated_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, 1, 'confirmed', %s, 0, now(), now(), now())
                RETURNING id
                """,
                (pk, project, user, start, end, end, data["title"], PROJECT_KIND),
            )
            (new_id,) = cursor.fetchone()
        answer: dict[str, Any] = {"id": new_id, "equipment": pk, "project": project}
        return Response(answer, status=201)


urlpatterns = [
    *project_urlpatterns,
    path("bench/floor/month/", MonthFloor.as_view()),
    path("bench/floor/booking/", BookingFloor.as_view()),
]
