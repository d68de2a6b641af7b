"""Waitlist endpoints (SPEC §10): the entries, and booking with `waitlist: true`.

The booking endpoint is reservations' own, extended here (the upper app extends the lower
one; reservations knows nothing of the waitlist): `platform_booking.api.urls` registers
`WaitlistReservationViewSet` for `reservations/`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import CONFLICT, AlternativeSerializer, IntervalSerializer
from reservations.api.booking import (
    BookedGroupSerializer,
    BookedSerializer,
    ReasonInput,
    ReservationCreateInput,
    ReservationViewSet,
    booking_input,
    outcome_payload,
)
from reservations.api.reads import CountWhenNeededPagination
from reservations.exceptions import BookingError
from reservations.services import reservation_create

from .models import EntryStatus, WaitlistEntry
from .selectors import entries_visible_to, with_position
from .services import JoinOutcome, waitlist_cancel, waitlist_join


class WaitlistEntrySerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=(
            "Rank (from 1) among the waiting entries of the equipment that overlap this one, "
            "in promotion order; null unless waiting."
        ),
    )

    group = serializers.UUIDField(
        read_only=True,
        allow_null=True,
        help_text=(
            "The session's group: the entries of one session (an entry per equipment, the "
            "same times) share it and are booked, cancelled and expired together; null for "
            "a single equipment."
        ),
    )

    class Meta:
        model = WaitlistEntry
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
            "position",
            "reservation",
            "group",
            "created_at",
        ]
        read_only_fields = fields


def entries_payload(entries: list[WaitlistEntry]) -> list[dict[str, Any]]:
    """The entries as the API reads them, positions included (one query)."""
    rows = with_position(WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries]))
    return list(WaitlistEntrySerializer(rows.order_by("start", "id"), many=True).data)


# --- booking with `waitlist: true` --------------------------------------------------------


class QueuedSerializer(serializers.Serializer):
    """A booking refused only for conflict, queued instead (202)."""

    waitlist = WaitlistEntrySerializer()
    conflicts = IntervalSerializer(many=True)
    alternatives = AlternativeSerializer(many=True)


class QueuedSeriesSerializer(serializers.Serializer):
    """A session or a series none of whose occurrences could be booked, queued (202): a
    session's entries (one per equipment, one `group`), or each conflicting occurrence of a
    series (a series of sessions: one group per occurrence)."""

    waitlist = WaitlistEntrySerializer(many=True)
    conflicts = IntervalSerializer(many=True)
    alternatives = AlternativeSerializer(many=True)


class BookedSeriesQueuedSerializer(BookedGroupSerializer):
    """A series or a session with `waitlist: true`: what was free booked, the occurrences
    refused for conflict queued (a session is booked whole: `waitlist` is empty)."""

    waitlist = WaitlistEntrySerializer(many=True, required=False)


BOOKED_OR_PART_QUEUED = PolymorphicProxySerializer(
    component_name="BookingWithWaitlistAnswer",
    serializers=[BookedSerializer, BookedSeriesQueuedSerializer],
    resource_type_field_name=None,
)
QUEUED = PolymorphicProxySerializer(
    component_name="QueuedAnswer",
    serializers=[QueuedSerializer, QueuedSeriesSerializer],
    resource_type_field_name=None,
)


def _local(value: Any) -> Any:
    """The instants of an error's extra in local time, as the rest of the API shows them."""
    if isinstance(value, dict):
        return {k: _local(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_local(v) for v in value]
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return timezone.localtime(value)
    return value


class WaitlistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Waitlist entries the reader may see in full (as reservations, SPEC §6)."""

    serializer_class = WaitlistEntrySerializer
    pagination_class = CountWhenNeededPagination

    @extend_schema(
        request=ReservationCreateInput,
        responses={
            201: BOOKED_OR_PART_QUEUED,
            202: OpenApiResponse(
                QUEUED, description="The time is taken: queued on the waitlist, nothing booked."
            ),
            409: CONFLICT,
        },
        description=(
            "Join the waitlist: the same body and answers as `POST /api/v1/reservations/` "
            "with `waitlist: true` (whatever `waitlist` says here). Time that is free is "
            "simply booked (201); time taken is queued (202)."
        ),
    )
    def create(self, request: Request) -> Response:
        values, booking = booking_input(request)
        return join(values, booking)

    def get_queryset(self) -> QuerySet[WaitlistEntry]:
        if getattr(self, "swagger_fake_view", False):
            return WaitlistEntry.objects.none()
        qs = entries_visible_to(self.request.user)
        params = self.request.query_params
        try:
            if params.get("equipment"):
                qs = qs.filter(equipment_id=int(params["equipment"]))
            if params.get("user"):
                who = params["user"]
                qs = qs.filter(booked_by_id=self.request.user.pk if who == "me" else int(who))
        except (ValueError, OverflowError):
            raise BookingError("bad_filter") from None
        if params.get("status"):
            wanted = params["status"].split(",")
            if not set(wanted) <= set(EntryStatus.values):
                raise BookingError(
                    "invalid", _("Unknown status."), fields={"status": [_("Unknown status.")]}
                )
            qs = qs.filter(status__in=wanted)
        return with_position(qs).order_by("start", "id")

    @extend_schema(
        parameters=[
            OpenApiParameter("equipment", int, description="An equipment's id."),
            OpenApiParameter(
                "status",
                str,
                description="waiting, booked, expired or cancelled (several comma-separated).",
            ),
            OpenApiParameter("user", str, description="`me`, or a user's id."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ReasonInput, responses=WaitlistEntrySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        entry = self.get_object()
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        waitlist_cancel(
            entry=entry, user=request.user, now=timezone.now(), reason=data.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data)


class WaitlistReservationViewSet(ReservationViewSet):
    """Reservations, whose booking may queue on the waitlist (`waitlist: true`)."""

    @extend_schema(
        request=ReservationCreateInput,
        responses={
            201: BOOKED_OR_PART_QUEUED,
            202: OpenApiResponse(
                QUEUED,
                description=(
                    "Refused only because the time is taken: queued on the waitlist "
                    "(`waitlist: true`), nothing booked."
                ),
            ),
            409: CONFLICT,
        },
        description=(
            "Book one equipment, a session (`equipment_ids`) or a series (`recurrence`). "
            "With `waitlist: true`, a booking refused only for `conflict` is queued instead "
            "(202; `waitlist` is a list for a session or a series); a session is queued as "
            "one group (an entry per equipment sharing `group`, booked later only as a "
            "whole); a series books its free occurrences and queues the others (201 with "
            "`waitlist`, or 202 when none was booked)."
        ),
    )
    def create(self, request: Request) -> Response:
        values, booking = self.booking_request(request)
        if not values["waitlist"]:
            outcome = reservation_create(**booking)
            grouped = bool(values.get("recurrence")) or "equipment_ids" in values
            return Response(
                outcome_payload(outcome, grouped=grouped), status=status.HTTP_201_CREATED
            )
        return join(values, booking)


def join(values: dict[str, Any], booking: dict[str, Any]) -> Response:
    """Book what is free, queue what is refused only for conflict (SPEC §10)."""
    booking.pop("skip_conflicts")  # the waitlist decides what a conflict does
    joined = waitlist_join(
        user=booking.pop("user"),
        project=booking.pop("project"),
        equipment_ids=booking.pop("equipment"),
        **booking,
    )
    grouped = bool(values.get("recurrence")) or "equipment_ids" in values
    return _answer(joined, series=grouped)


def _answer(joined: JoinOutcome, *, series: bool) -> Response:
    """`series`: a series or a session (grouped answers, `waitlist` a list)."""
    entries = entries_payload(joined.entries) if joined.entries else []
    if joined.booking is not None:
        body = outcome_payload(joined.booking, grouped=series)
        if series:
            body["waitlist"] = entries
        return Response(body, status=status.HTTP_201_CREATED)
    refused = joined.refused.extra if joined.refused is not None else {}
    return Response(
        {
            "waitlist": entries if series else entries[0],
            "conflicts": _local(refused.get("conflicts", [])),
            "alternatives": _local(refused.get("alternatives", [])),
        },
        status=status.HTTP_202_ACCEPTED,
    )
