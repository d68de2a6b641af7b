"""Term plans (SPEC §11): `GET, POST /api/v1/plans/`, `GET, DELETE /api/v1/plans/<id>/`,
`POST .../solve/` (202: the worker solves it) and `POST .../commit/`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import OccurrenceSerializer
from equipment.policy import END_TIME_PATTERN, START_TIME_PATTERN, WEEKDAYS, to_minutes
from partners.selectors import projects_visible_to
from planner.models import Plan, PlanRequest
from planner.permissions import plans_visible_to
from planner.reasons import reason_words
from planner.services import (
    DEFAULT_TIME_LIMIT,
    PlanError,
    plan_commit,
    plan_create,
    plan_delete,
    plan_solve_start,
)
from planner.solver import MAX_TIME_LIMIT
from reservations.api.booking import ReservationSerializer


class SlotSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=list(WEEKDAYS))
    start = serializers.RegexField(START_TIME_PATTERN, help_text="HH:MM, local time")
    end = serializers.RegexField(END_TIME_PATTERN, help_text="HH:MM (24:00 allowed)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if to_minutes(attrs["start"]) >= to_minutes(attrs["end"]):
            raise serializers.ValidationError({"end": [_("A slot must end after it starts.")]})
        return attrs


class OccurrenceOut(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SessionOut(serializers.Serializer):
    weekday = serializers.CharField()
    start = serializers.CharField()
    end = serializers.CharField()
    equipment = serializers.ListField(child=serializers.IntegerField())
    occurrences = OccurrenceOut(many=True)


class AssignmentOut(SessionOut):
    sessions = SessionOut(many=True, help_text=gettext_lazy("Every weekly slot used."))


class ClassRequestSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", min_value=1)
    equipment_choices = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=100
    )
    allowed_slots = serializers.ListField(child=SlotSerializer(), min_length=1, max_length=50)
    count = serializers.IntegerField(min_value=1, max_value=50, default=1)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60)
    sessions_per_week = serializers.IntegerField(min_value=1, max_value=14, default=1)
    expected_participants = serializers.IntegerField(min_value=1, max_value=10000, default=1)
    same_slot_every_week = serializers.BooleanField(default=True)
    assignment = AssignmentOut(read_only=True, allow_null=True)
    unplaced_reason = serializers.SerializerMethodField()
    unplaced_code = serializers.SerializerMethodField()

    class Meta:
        model = PlanRequest
        fields = [
            "id",
            "project",
            "title",
            "expected_participants",
            "equipment_choices",
            "count",
            "duration_minutes",
            "sessions_per_week",
            "allowed_slots",
            "same_slot_every_week",
            "assignment",
            "unplaced_reason",
            "unplaced_code",
        ]
        read_only_fields = ["id", "assignment", "unplaced_reason", "unplaced_code"]

    def get_unplaced_reason(self, obj: PlanRequest) -> str | None:
        return reason_words(obj.unplaced) if obj.unplaced else None

    def get_unplaced_code(self, obj: PlanRequest) -> str | None:
        return (obj.unplaced or {}).get("code")


class DisplacedOut(serializers.Serializer):
    reservation = serializers.IntegerField()
    partner = serializers.IntegerField()
    hours = serializers.FloatField()


class PlanSerializer(serializers.ModelSerializer):
    requests = ClassRequestSerializer(many=True, help_text="1 to 200 classes.")
    skip_school_holidays = serializers.BooleanField(default=True)
    displaced = DisplacedOut(many=True, read_only=True)
    objective = serializers.DictField(read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "term_start",
            "term_end",
            "skip_school_holidays",
            "status",
            "created_by",
            "created_at",
            "solved_by",
            "solving_since",
            "solved_at",
            "committed_at",
            "objective",
            "optimal",
            "solve_seconds",
            "displaced",
            "error",
            "requests",
        ]
        read_only_fields = [
            "id",
            "status",
            "created_by",
            "created_at",
            "solved_by",
            "solving_since",
            "solved_at",
            "committed_at",
            "objective",
            "optimal",
            "solve_seconds",
            "displaced",
            "error",
        ]

    def validate_requests(self, value: list[Any]) -> list[Any]:
        if not 1 <= len(value) <= 200:
            raise serializers.ValidationError(_("Give from 1 to 200 classes."))
        return value


class SolveInput(serializers.Serializer):
    time_limit_seconds = serializers.FloatField(
        min_value=1, max_value=MAX_TIME_LIMIT, default=DEFAULT_TIME_LIMIT
    )


class CommittedSerializer(PlanSerializer):
    reservations = ReservationSerializer(many=True)

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "reservations"]
        read_only_fields = fields


class RefusedOccurrenceSerializer(OccurrenceSerializer):
    request = serializers.IntegerField(help_text=gettext_lazy("The plan request it books."))


class PlanConflictSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="conflict")
    detail = serializers.CharField()
    occurrences = RefusedOccurrenceSerializer(many=True)


PLAN_CONFLICT = OpenApiResponse(
    PlanConflictSerializer,
    description=gettext_lazy(
        "Some bookings of the plan are taken since it was solved: nothing was booked "
        "(`occurrences` lists them)."
    ),
)


class PlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Term plans of the reader: platform managers see all; teachers those of their projects."""

    serializer_class = PlanSerializer

    def get_queryset(self) -> QuerySet[Plan]:
        if getattr(self, "swagger_fake_view", False):
            return Plan.objects.none()
        return (
            plans_visible_to(self.request.user)
            .select_related("created_by")
            .prefetch_related("requests")
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=PlanSerializer, responses={201: PlanSerializer})
    def create(self, request: Request) -> Response:
        data = PlanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visible = {
            p.pk: p
            for p in projects_visible_to(request.user).filter(
                pk__in=[r["project_id"] for r in values["requests"]]
            )
        }
        items = []
        for n, item in enumerate(values["requests"]):
            project = visible.get(item.pop("project_id"))
            if project is None:
                raise PlanError(
                    "invalid", fields={f"requests.{n}.project": [_("Unknown project.")]}
                )
            items.append({**item, "project": project})
        plan = plan_create(
            user=request.user,
            name=values["name"],
            term_start=values["term_start"],
            term_end=values["term_end"],
            skip_school_holidays=values["skip_school_holidays"],
            requests=items,
            now=timezone.now(),
        )
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Plan) -> None:
        plan_delete(plan=instance, user=self.request.user)

    @extend_schema(request=SolveInput, responses={202: PlanSerializer})
    @action(detail=True, methods=["post"])
    def solve(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = SolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        plan = plan_solve_start(
            plan=plan,
            user=request.user,
            now=timezone.now(),
            time_limit_seconds=data.validated_data["time_limit_seconds"],
        )
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PlanSerializer(plan).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: CommittedSerializer, 409: PLAN_CONFLICT})
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        plan, created = plan_commit(plan=plan, user=request.user, now=timezone.now())
        plan = self.get_queryset().get(pk=plan.pk)
        data = PlanSerializer(plan).data
        data["reservations"] = ReservationSerializer(created, many=True).data
        return Response(data)
