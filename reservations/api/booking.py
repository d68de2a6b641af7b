"""Reservation endpoints: book, read, move, cancel, approve, reject, and availability."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.renderers import renderers_with_json_text
from core.api.schema import CONFLICT, ErrorSerializer
from core.errors import words
from core.ids import MAX_ID, is_id
from core.timezones import TimeError, parse_local
from equipment.models import Equipment
from partners.selectors import projects_visible_to
from reservations.exceptions import BookingError
from reservations.models import Closure, Reservation, ReservationStatus
from reservations.selectors import (
    AvailabilityFacts,
    Probe,
    availabilities,
    availability_facts,
    availability_times,
    reservations_visible_to,
)
from reservations.services import (
    BookingOutcome,
    closure_create,
    closure_delete,
    reservation_approve,
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_create,
    reservation_reject,
    reservation_update,
)
from reservations.services.noshows import (
    overdue_in,
    overdue_probe_sql,
    record_no_shows,
)

from .reads import (
    RESERVATION_COLUMNS,
    CountWhenNeededPagination,
    LocalStamps,
    ReservationListSQL,
    availability_json,
    reservation_list_sql,
    reservation_rows,
    reservation_values,
)


class ReservationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reservation
        fields = [
            "id",
            "equipment",
            "project",
            "booked_by",
            "start",
            "end",
            "title",
            "expected_participants",
            "status",
            "priority",
            "series",
            "session",
            "revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def busy_view(reservation: Reservation) -> dict[str, Any]:
    """What anyone may know of a reservation: when, where, and its priority."""
    return {
        "id": reservation.pk,
        "equipment": reservation.equipment_id,
        "start": timezone.localtime(reservation.start),
        "end": timezone.localtime(reservation.end),
        "priority": reservation.priority,
        "status": reservation.status,
    }


class CancelledSerializer(ReservationSerializer):
    """The answer of cancel/: the reservation as it now reads, and every one cancelled."""

    cancelled = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the reservations cancelled (several with scope following or series).",
    )

    class Meta(ReservationSerializer.Meta):
        fields = [*ReservationSerializer.Meta.fields, "cancelled"]
        read_only_fields = fields


# --- schema-only shapes of the booking's answer (core.api.schema documents the errors) ---


class BusySerializer(serializers.Serializer):
    """A reservation as anyone may know it (`busy_view`): a displaced one, for instance."""

    id = serializers.IntegerField()
    equipment = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    priority = serializers.CharField()
    status = serializers.CharField()


class BookedSerializer(ReservationSerializer):
    """A single booking: the reservation, and those it displaced."""

    displaced = BusySerializer(many=True)

    class Meta(ReservationSerializer.Meta):
        fields = [*ReservationSerializer.Meta.fields, "displaced"]
        read_only_fields = fields


class SkippedSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    code = serializers.CharField()
    equipment = serializers.IntegerField(required=False)


class BookedGroupSerializer(serializers.Serializer):
    """A series or session: its reservations, the occurrences skipped, those displaced."""

    series = serializers.IntegerField(allow_null=True)
    session = serializers.IntegerField(allow_null=True)
    reservations = ReservationSerializer(many=True)
    skipped = SkippedSerializer(many=True)
    displaced = BusySerializer(many=True)


BOOKED = PolymorphicProxySerializer(
    component_name="BookingAnswer",
    serializers=[BookedSerializer, BookedGroupSerializer],
    resource_type_field_name=None,
)


class RecurrenceInput(serializers.Serializer):
    rrule = serializers.CharField(max_length=500)
    skip_school_holidays = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "Skip the zone B school holidays (each skipped date is listed in `skipped` with "
            "the code `school_holiday`). Absent or null: skipped for a pedagogical project, "
            "kept for research and industrial ones. When skipping (asked or by default), a "
            "series going beyond the published school calendar is refused with the code "
            "`school_calendar_unknown`, naming the last known day (`known_until`)."
        ),
    )


class ReservationCreateInput(serializers.Serializer):
    equipment = serializers.IntegerField(required=False)
    equipment_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, allow_empty=False, max_length=50
    )
    project = serializers.IntegerField()
    start = serializers.CharField(help_text="ISO 8601; without offset, read in Europe/Paris.")
    end = serializers.CharField(help_text="ISO 8601; without offset, read in Europe/Paris.")
    title = serializers.CharField(max_length=200)
    expected_participants = serializers.IntegerField(min_value=1, default=1)
    recurrence = RecurrenceInput(required=False)
    skip_conflicts = serializers.BooleanField(default=False)
    override = serializers.BooleanField(default=False)
    waitlist = serializers.BooleanField(
        default=False,
        help_text=(
            "When refused only because the time is taken (`conflict`), queue on the waitlist "
            "instead (SPEC §10): 202 with the entry. A session is queued as one group (an "
            "entry per equipment, booked later only as a whole); a series books its free "
            "occurrences and queues each conflicting one."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("equipment" in attrs) == ("equipment_ids" in attrs):
            raise serializers.ValidationError(
                {"equipment": [_("Give either equipment or equipment_ids.")]}
            )
        return attrs


class ReservationUpdateInput(serializers.Serializer):
    start = serializers.CharField(required=False)
    end = serializers.CharField(required=False)
    title = serializers.CharField(max_length=200, required=False)
    expected_participants = serializers.IntegerField(min_value=1, required=False)
    override = serializers.BooleanField(default=False)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CancelInput(ReasonInput):
    scope = serializers.ChoiceField(
        choices=["this", "following", "series"],
        default="this",
        help_text=(
            "`this`: this reservation only (for a member of a session, this equipment only; "
            "cancel the others by their ids); `following`: this one and the later ones of "
            "its series; `series`: the whole series. A series booked on several equipment "
            "is one series: `following` and `series` cover every equipment."
        ),
    )


def parse_instant(value: Any, name: str) -> datetime:
    """Read an ISO 8601 instant; a local time without offset is read in Europe/Paris."""
    try:
        return parse_local(value)
    except TimeError as error:
        detail = words("invalid") if error.unreadable else error.message
        raise BookingError(error.code, detail, fields={name: [error.message]}) from None


def outcome_payload(outcome: BookingOutcome, *, grouped: bool) -> dict[str, Any]:
    # ReservationSerializer's answer, written as the list writes it: building a model
    # serializer's fields costs more than the booking's Python rules.
    reservations = reservation_rows(
        [
            tuple(getattr(r, column) for _, column in RESERVATION_COLUMNS)
            for r in outcome.reservations
        ]
    )
    displaced = [busy_view(r) for r in outcome.displaced]
    if not grouped:
        return {**reservations[0], "displaced": displaced}
    return {
        "series": outcome.series.pk if outcome.series else None,
        "session": outcome.session.pk if outcome.session else None,
        "reservations": reservations,
        "skipped": [
            {
                **item,
                "start": timezone.localtime(item["start"]),
                "end": timezone.localtime(item["end"]),
            }
            for item in outcome.skipped
        ],
        "displaced": displaced,
    }


def booking_input(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The input of a booking, validated, and the arguments of `reservation_create`."""
    data = ReservationCreateInput(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    start = parse_instant(values["start"], "start")
    end = parse_instant(values["end"], "end")
    # The members are not needed: the booking reads membership with the equipment.
    visible = projects_visible_to(request.user).prefetch_related(None)
    project = visible.filter(pk=values["project"]).first()
    if project is None:
        raise BookingError("invalid", fields={"project": [_("Unknown project.")]})
    # Only ids: the booking reads and locks the equipment rows (an unknown id: invalid).
    ids = values.get("equipment_ids") or [values["equipment"]]
    recurrence = values.get("recurrence") or {}
    return values, {
        "user": request.user,
        "project": project,
        "equipment": ids,
        "start": start,
        "end": end,
        "title": values["title"],
        "expected_participants": values["expected_participants"],
        "rrule": recurrence.get("rrule"),
        "skip_school_holidays": recurrence.get("skip_school_holidays"),
        "skip_conflicts": values["skip_conflicts"],
        "override": values["override"],
        "now": timezone.now(),
    }


class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reservations the reader may see in full; others' appear only in availability."""

    serializer_class = ReservationSerializer
    pagination_class = CountWhenNeededPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD") and self.action != "list":
            # SPEC §5: past its check-in grace a reservation reads as a no-show, whether or
            # not the release_no_shows command has run. The list records them itself,
            # its probe sent with its first page.
            record_no_shows(now=timezone.now())

    def get_queryset(self) -> QuerySet[Reservation]:
        if getattr(self, "swagger_fake_view", False):
            return Reservation.objects.none()
        qs = reservations_visible_to(self.request.user)
        asked = self.list_filters()
        for name in ("equipment", "project", "booked_by"):
            if name in asked:
                qs = qs.filter(**{f"{name}_id": asked[name]})
        if "partner" in asked:
            qs = qs.filter(project__partner_id=asked["partner"])
        if "status" in asked:
            qs = qs.filter(status__in=asked["status"])
        if "window" in asked:
            qs = qs.overlapping(*asked["window"])
        return qs.order_by("start", "id")

    def list_filters(self) -> dict[str, Any]:
        """The list's filters read from the query: ids (`equipment`, `project`, `partner`,
        `booked_by` from `user`), `status` (a list) and `window` (start, end: either may
        be None); the errors of a bad filter, in this order."""
        params = self.request.query_params
        asked: dict[str, Any] = {}
        try:
            for name in ("equipment", "project", "partner"):
                if params.get(name):
                    asked[name] = int(params[name])
            if params.get("user"):
                who = params["user"]
                asked["booked_by"] = self.request.user.pk if who == "me" else int(who)
        except ValueError:
            raise BookingError("bad_filter") from None
        if params.get("status"):
            wanted = params["status"].split(",")
            if not set(wanted) <= set(ReservationStatus.values):
                raise BookingError(
                    "invalid", _("Unknown status."), fields={"status": [_("Unknown status.")]}
                )
            asked["status"] = wanted
        if params.get("start") or params.get("end"):
            asked["window"] = (
                parse_instant(params["start"], "start") if params.get("start") else None,
                parse_instant(params["end"], "end") if params.get("end") else None,
            )
        return asked

    def list_sql(self) -> ReservationListSQL | None:
        """The list as raw SQL (`ReservationListSQL`), the same rows as `get_queryset`'s,
        the no-show probe sent with its first page (when it finds something to record,
        the no-shows are recorded and the page read again); None where the queryset must
        answer: an id beyond the database's integers, or filter backends that would
        change it."""
        if self.paginator is None or getattr(self, "filterset_class", None):
            return None
        if getattr(self, "filterset_fields", None):
            return None
        asked = self.list_filters()
        ids = [asked.get(name) for name in ("equipment", "project", "partner", "booked_by")]
        if any(value is not None and not -MAX_ID <= value <= MAX_ID for value in ids):
            return None
        now = timezone.now()

        def must_reread(rows: list[tuple[Any, ...]]) -> bool:
            if not overdue_in(rows, now):
                return False
            record_no_shows(now=now)
            return True

        found = reservation_list_sql(self.request.user, asked)
        found.probe = (*overdue_probe_sql(now, None), must_reread)
        return found

    # The serializer's answer from plain rows: its fields are columns, and building then
    # serialising model instances cost ten times the query. No docstring: the schema
    # takes the class's as the operation's description, and still reads the serializer.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset: Any = self.list_sql()
        if queryset is None:
            record_no_shows(now=timezone.now())
            queryset = reservation_values(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(reservation_rows(list(queryset)))
        return self.get_paginated_response(reservation_rows(page))

    @extend_schema(
        request=ReservationCreateInput,
        responses={201: BOOKED, 409: CONFLICT},
        description="Book one equipment, a session (`equipment_ids`) or a series (`recurrence`).",
    )
    def create(self, request: Request) -> Response:
        values, booking = self.booking_request(request)
        outcome = reservation_create(**booking)
        grouped = bool(values.get("recurrence")) or "equipment_ids" in values
        return Response(outcome_payload(outcome, grouped=grouped), status=status.HTTP_201_CREATED)

    def booking_request(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """The input of a booking, validated, and the arguments of `reservation_create`."""
        return booking_input(request)

    @extend_schema(
        request=ReservationUpdateInput, responses={200: ReservationSerializer, 409: CONFLICT}
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        reservation = self.get_object()
        data = ReservationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        updated = reservation_update(
            reservation=reservation,
            user=request.user,
            now=timezone.now(),
            start=parse_instant(values["start"], "start") if "start" in values else None,
            end=parse_instant(values["end"], "end") if "end" in values else None,
            title=values.get("title"),
            expected_participants=values.get("expected_participants"),
            override=values["override"],
        )
        return Response(ReservationSerializer(updated).data)

    @extend_schema(request=CancelInput, responses=CancelledSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        reservation = self.get_object()
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        cancelled = reservation_cancel(
            reservation=reservation,
            user=request.user,
            now=timezone.now(),
            scope=data.validated_data["scope"],
            reason=data.validated_data["reason"],
        )
        reservation.refresh_from_db()
        return Response(
            {
                **ReservationSerializer(reservation).data,
                "cancelled": [r.pk for r in cancelled],
            }
        )

    @extend_schema(request=ReasonInput, responses=ReservationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, reservation_approve)

    @extend_schema(request=ReasonInput, responses=ReservationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, reservation_reject)

    @extend_schema(request=None, responses=ReservationSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        reservation = self.get_object()
        reservation_check_in(reservation=reservation, user=request.user, now=timezone.now())
        reservation.refresh_from_db()
        return Response(ReservationSerializer(reservation).data)

    @extend_schema(request=None, responses=ReservationSerializer)
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request: Request, pk: str | None = None) -> Response:
        reservation = self.get_object()
        reservation_check_out(reservation=reservation, user=request.user, now=timezone.now())
        reservation.refresh_from_db()
        return Response(ReservationSerializer(reservation).data)

    def _decide(self, request: Request, service: Any) -> Response:
        reservation = self.get_object()
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        decided = service(
            reservation=reservation,
            user=request.user,
            now=timezone.now(),
            reason=data.validated_data["reason"],
        )
        return Response(ReservationSerializer(decided).data)


class AvailabilitySerializer(serializers.Serializer):
    """Schema only: the busy and free intervals of one equipment (selectors.availability)."""

    equipment = serializers.IntegerField()
    busy = serializers.ListField(child=serializers.DictField())
    free = serializers.ListField(child=serializers.DictField())


WINDOW_PARAMETERS = [
    OpenApiParameter("start", str, required=True),
    OpenApiParameter("end", str, required=True),
]
# At most this many equipment per availability request: the whole campus fits in one.
MAX_AVAILABILITY_EQUIPMENT = 200


def availability_window(request: Request) -> tuple[datetime, datetime]:
    """The window [start, end) asked for: at most 62 days (`bad_window`)."""
    start = parse_instant(request.query_params.get("start"), "start")
    end = parse_instant(request.query_params.get("end"), "end")
    if start >= end or end - start > timedelta(days=62):
        raise BookingError("bad_window")
    return start, end


class AvailabilityView(APIView):
    """Busy and free intervals of one equipment: everyone logged in sees busy time only."""

    @extend_schema(parameters=WINDOW_PARAMETERS, responses=AvailabilitySerializer)
    def get(self, request: Request, pk: int) -> Response:
        equipment = Equipment.objects.filter(pk=pk).first()
        if equipment is None:
            raise NotFound()
        start, end = availability_window(request)
        answers = availabilities(
            [equipment], start, end, stamp=LocalStamps(), probe=no_show_probe([equipment])
        )
        return Response(answers[equipment.pk])


def equipment_ids_asked(request: Request) -> list[int]:
    """The ids of `equipment`, comma-separated or repeated, in the order asked, once each."""
    ids: dict[int, None] = {}  # ordered, each once
    for value in request.query_params.getlist("equipment"):
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if not is_id(part):
                raise BookingError("bad_filter")
            ids[int(part)] = None
    if not ids:
        raise BookingError("no_equipment")
    if len(ids) > MAX_AVAILABILITY_EQUIPMENT:
        raise BookingError("too_many_equipment", params={"n": MAX_AVAILABILITY_EQUIPMENT})
    return list(ids)


def no_show_probe(items: list[Equipment] | list[AvailabilityFacts]) -> Probe | None:
    """`record_no_shows_of(items)` as a probe sent with the availability's own query (None
    when none of them requires a check-in): when it finds a reservation past its grace,
    the no-shows are recorded and the busy intervals read again."""
    checked = [e.pk for e in items if e.requires_check_in]
    if not checked:
        return None
    now = timezone.now()

    def must_reread(rows: list[tuple[Any, Any]]) -> bool:
        if not overdue_in(rows, now):
            return False
        record_no_shows(now=now, equipment_ids=checked)
        return True

    return (*overdue_probe_sql(now, checked), must_reread)


class AvailabilitiesView(APIView):
    """Busy and free intervals of several equipment over one window, in one request.

    `GET /api/v1/availability/?equipment=1,2,3&start=…&end=…` (or `equipment` repeated)
    answers `{"results": [...]}`: one item per equipment, in the order asked (an id given
    twice answers once), each shaped as `GET /api/v1/equipment/<id>/availability/`. The
    same window rules (`bad_window`: at most 62 days); at most 200 equipment
    (`too_many_equipment`); ids that are not numbers answer `bad_filter`, none at all
    `no_equipment`. Unknown ids answer 404 with the code `not_found` and the unknown ids
    in `missing`: every equipment, retired ones too, is visible to anyone logged in,
    as in the single view. A fixed number of queries whatever the number of equipment.
    The JSON is written directly (reads.availability_json), as DRF would write it.
    """

    renderer_classes = renderers_with_json_text()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "equipment",
                str,
                required=True,
                description="Equipment ids, comma-separated or the parameter repeated "
                f"(at most {MAX_AVAILABILITY_EQUIPMENT}).",
            ),
            *WINDOW_PARAMETERS,
        ],
        responses={
            200: inline_serializer(
                "Availabilities", {"results": AvailabilitySerializer(many=True)}
            ),
            404: OpenApiResponse(
                ErrorSerializer,
                description=gettext_lazy(
                    "Unknown equipment (`not_found`), their ids in `missing`."
                ),
            ),
        },
    )
    def get(self, request: Request) -> Response:
        ids = equipment_ids_asked(request)
        start, end = availability_window(request)
        found = {e.pk: e for e in availability_facts(ids)}
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise BookingError(
                "not_found.equipment",
                params={"ids": ", ".join(map(str, missing))},
                missing=missing,
            )
        items = [found[pk] for pk in ids]
        times = availability_times(items, start, end, probe=no_show_probe(items))
        return Response(availability_json(ids, times, start, end))


class ClosureSerializer(serializers.ModelSerializer):
    start = serializers.CharField()
    end = serializers.CharField()

    class Meta:
        model = Closure
        fields = ["id", "equipment", "site", "start", "end", "reason", "kind", "source"]
        read_only_fields = ["source"]

    def to_representation(self, instance: Closure) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "equipment": instance.equipment_id,
            "site": instance.site_id,
            "start": timezone.localtime(instance.start).isoformat(),
            "end": timezone.localtime(instance.end).isoformat(),
            "reason": instance.reason,
            "kind": instance.kind,
            "source": instance.source,
        }


class ClosureViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Closures: everyone logged in reads them (they are busy time); managers write."""

    serializer_class = ClosureSerializer
    filterset_fields = ["equipment", "site", "kind"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Closure]:
        return Closure.objects.order_by("start", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ClosureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        closure, displaced = closure_create(
            user=request.user,
            equipment=values.get("equipment"),
            site=values.get("site"),
            start=parse_instant(values["start"], "start"),
            end=parse_instant(values["end"], "end"),
            reason=values["reason"],
            kind=values.get("kind", Closure.Kind.OTHER),
            now=timezone.now(),
        )
        return Response(
            {**ClosureSerializer(closure).data, "displaced": [busy_view(r) for r in displaced]},
            status=status.HTTP_201_CREATED,
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        closure_delete(closure=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
