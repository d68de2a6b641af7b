"""Partner, project and profile endpoints."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.viewsets import ReferenceViewSet
from core.roles import is_platform_manager, require
from partners.models import Partner, Project
from partners.permissions import may_create_partner, may_edit_partner
from partners.preferences import notification_preferences, notification_preferences_set
from partners.selectors import affiliations_of, partners_of_user, projects_visible_to
from partners.services import feed_token_for, feed_token_rotate, user_language, user_language_set

from .serializers import (
    MeSerializer,
    MeUpdateSerializer,
    NotificationPreferencesSerializer,
    PartnerSerializer,
    ProjectSerializer,
)


class PartnerViewSet(ReferenceViewSet):
    """Partners: everyone logged in reads; partners.services decides who writes."""

    queryset = Partner.objects.prefetch_related("referents")
    serializer_class = PartnerSerializer
    filterset_fields = ["kind", "rate_category"]
    permission_classes = [IsAuthenticated]

    # The services decide. Asking them first keeps the API's answer to those who may not
    # write partners at all: 403 before the body or the id is looked at (not 400 or 404).
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require(may_create_partner(request.user))
        return super().create(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require(may_edit_partner(request.user))
        return super().update(request, *args, **kwargs)

    def perform_create(self, serializer: PartnerSerializer) -> None:  # type: ignore[override]
        serializer.save(actor=self.request.user)

    def perform_update(self, serializer: PartnerSerializer) -> None:  # type: ignore[override]
        serializer.save(actor=self.request.user)


class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Projects and their members. A confidential project is invisible (404) to outsiders."""

    serializer_class = ProjectSerializer
    filterset_fields = ["kind", "partner", "confidential"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Project]:
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return projects_visible_to(self.request.user)

    # partners.services decides who creates or changes a project (403), after the body
    # is validated (400); who cannot see the project got 404 from get_queryset already.
    def perform_create(self, serializer: ProjectSerializer) -> None:  # type: ignore[override]
        serializer.save(actor=self.request.user)

    def perform_update(self, serializer: ProjectSerializer) -> None:  # type: ignore[override]
        serializer.save(actor=self.request.user)


def feeds_for(user: Any, key: str, projects: list[Project], partner_ids: list[int]) -> dict:
    base = settings.SITE_URL
    return {
        "me": f"{base}/calendars/me.ics?token={key}",
        "projects": {
            str(p.pk): f"{base}/calendars/projects/{p.pk}.ics?token={key}" for p in projects
        },
        "partners": {
            str(pk): f"{base}/calendars/partners/{pk}.ics?token={key}" for pk in partner_ids
        },
        "equipment_template": f"{base}/calendars/equipment/{{id}}.ics?token={key}",
    }


def me_payload(user: Any) -> dict[str, Any]:
    projects = list(
        Project.objects.filter(Q(members=user) | Q(leader=user)).distinct().order_by("name")
    )
    partners = list(partners_of_user(user))
    referent_of = list(user.referent_of.values_list("pk", flat=True))
    managed = list(user.managed_equipment.values_list("pk", flat=True))
    roles = []
    if is_platform_manager(user):
        roles.append("platform_manager")
    if managed:
        roles.append("equipment_manager")
    if referent_of:
        roles.append("partner_referent")
    if projects:
        roles.append("project_member")
    key = feed_token_for(user=user).key
    return {
        "id": user.pk,
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "roles": roles,
        "is_platform_manager": is_platform_manager(user),
        "partners": partners,
        "affiliations": list(affiliations_of(user)),
        "referent_of": referent_of,
        "projects": projects,
        "managed_equipment": managed,
        "feed_token": key,
        "feeds": feeds_for(user, key, projects, referent_of),
        "language": user_language(user),
    }


class MeView(APIView):
    """The current user, their partners, projects, roles and calendar feed URLs."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(me_payload(request.user)).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        """Set the language of the user's emails (`fr`, `en`, or "" / null for the default)."""
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "language" in data.validated_data:
            user_language_set(user=request.user, language=data.validated_data["language"] or "")
        return Response(MeSerializer(me_payload(request.user)).data)


class FeedTokenView(APIView):
    """Issue a new feed token: the previous one stops working at once."""

    @extend_schema(request=None, responses=MeSerializer)
    def post(self, request: Request) -> Response:
        feed_token_rotate(user=request.user)
        return Response(MeSerializer(me_payload(request.user)).data)


class NotificationPreferencesView(APIView):
    """The notifications the current user receives by email, their language, and whether
    emails carry the .ics (SPEC §12)."""

    @extend_schema(responses=NotificationPreferencesSerializer)
    def get(self, request: Request) -> Response:
        data = notification_preferences(request.user)
        return Response(NotificationPreferencesSerializer(data).data)

    @extend_schema(
        request=NotificationPreferencesSerializer, responses=NotificationPreferencesSerializer
    )
    def patch(self, request: Request) -> Response:
        """Change what is given; the rest stays as it was."""
        given = NotificationPreferencesSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        language = values.get("language")
        data = notification_preferences_set(
            user=request.user,
            language=(language or "") if "language" in values else None,
            attach_ics=values.get("attach_ics"),
            email=values.get("email"),
        )
        return Response(NotificationPreferencesSerializer(data).data)
