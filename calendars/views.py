"""The iCalendar feeds (SPEC §4): `?token=<feed token>` or a session login.

Calendar clients poll these URLs; each answer carries a strong ETag (the digest of the
body) and a Last-Modified, so that an unchanged feed costs them a 304.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.roles import is_platform_manager
from partners.models import Partner
from partners.selectors import partners_of_user, projects_visible_to

from . import feeds, rows
from .models import FeedState

CONTENT_TYPE = "text/calendar; charset=utf-8"
# How much of a feed token finds its row: 8 of its 43 characters, so that the remaining
# 210 random bits are only ever compared in constant time.
FEED_TOKEN_LOOKUP = 8


_UNREAD = object()  # the reader's FeedState was not read with the token


def _state_key_parts(request: HttpRequest) -> tuple[str, str]:
    """What goes before and after the reader's id in their FeedState key."""
    return f"{request.path}|", f"|{get_language()}"


def _state_key(request: HttpRequest, user_id: int) -> str:
    prefix, suffix = _state_key_parts(request)
    return f"{prefix}{user_id}{suffix}"[:255]


def _reader_and_state(
    request: HttpRequest, equipment_pk: int | None = None, now: datetime | None = None
) -> tuple[Any, Any, Any]:
    """The feed's reader, for a token their FeedState (None if none), and the equipment
    `equipment_pk` with its closures in the window of `now` (a TokenCandidate, its
    equipment None if none), all in the token's query.

    The FeedState row's key holds the reader's id, known in the database already:
    reading it with the token saves the feed a round trip, and so does the equipment.
    What was not read with a token is `_UNREAD`.
    """
    key = request.GET.get("token", "")
    if len(key) > FEED_TOKEN_LOOKUP:
        # Looked up by its first characters only, then compared whole in constant time:
        # the time of the answer tells nothing about how much of a guess was right
        # beyond that short prefix.
        prefix, suffix = _state_key_parts(request)
        # The key is never cut (ids have 19 digits at most): else read on its own.
        whole = len(prefix) + len(suffix) < 255 - 20
        candidates = rows.token_candidates(
            key[:FEED_TOKEN_LOOKUP],
            state_key=(prefix, suffix) if whole else None,
            equipment_pk=equipment_pk,
            window=feeds.window(now) if now is not None else None,
        )
        for token in candidates:
            if hmac.compare_digest(token.key.encode(), key.encode()) and token.user.is_active:
                state = token.state if whole else _UNREAD
                return token.user, state, (token if equipment_pk is not None else _UNREAD)
    user = request.user
    return (user if user.is_authenticated else None), _UNREAD, _UNREAD


def _unauthorized() -> HttpResponse:
    response = HttpResponse(
        _("Authentication required: add ?token=<your feed token> or log in."),
        status=401,
        content_type="text/plain; charset=utf-8",
    )
    response["WWW-Authenticate"] = 'Token realm="calendar feeds"'
    return response


def _not_found() -> HttpResponse:
    return HttpResponse(_("Not found."), status=404, content_type="text/plain; charset=utf-8")


def _changed_at(
    request: HttpRequest, user: Any, etag: str, feed: feeds.Feed, state: Any = _UNREAD
) -> datetime:
    """When this reader's view of the feed last changed: remembered with its ETag."""
    key = _state_key(request, user.pk)
    if state is _UNREAD:
        state = FeedState.objects.filter(key=key).first()
    if state is not None and state.etag == etag:
        return state.changed_at
    # New or changed: now, but never before the newest row the feed shows.
    now = timezone.now().replace(microsecond=0)
    changed = max(now, feed.last_modified) if feed.last_modified else now
    # One upsert (INSERT ... ON CONFLICT DO UPDATE on both databases): two requests of
    # the same reader at once both succeed.
    FeedState.objects.bulk_create(
        [FeedState(key=key, etag=etag, changed_at=changed)],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["etag", "changed_at"],
    )
    return changed


def _serve(
    request: HttpRequest, user: Any, feed: feeds.Feed, filename: str, state: Any = _UNREAD
) -> HttpResponse:
    response = HttpResponse(feed.body, content_type=CONTENT_TYPE)
    etag = f'"{hashlib.sha256(feed.body).hexdigest()[:40]}"'
    response["ETag"] = etag
    last_modified = int(_changed_at(request, user, etag, feed, state).timestamp())
    response["Last-Modified"] = http_date(last_modified)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # The body depends on who reads (token or session) and in which language.
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    patch_cache_control(response, private=True, no_cache=True)
    conditional = get_conditional_response(
        request, etag=response["ETag"], last_modified=last_modified, response=response
    )
    return conditional or response


def _feed_view(
    request: HttpRequest, build: Callable[[Any], tuple[feeds.Feed, str] | None]
) -> HttpResponse:
    user, state, _equipment = _reader_and_state(request)
    if user is None:
        return _unauthorized()
    built = build(user)
    if built is None:
        return _not_found()
    feed, filename = built
    return _serve(request, user, feed, filename, state)


@require_safe
def equipment_feed(request: HttpRequest, pk: int) -> HttpResponse:
    """Any logged-in user: busy time for all, details where the reader may see them."""
    now = timezone.now()
    user, state, token = _reader_and_state(request, equipment_pk=pk, now=now)
    if user is None:
        return _unauthorized()
    if token is _UNREAD:
        equipment, closures = rows.equipment_head(pk), None
    else:
        equipment, closures = token.equipment, token.closures
    if equipment is None:
        return _not_found()
    feed = feeds.equipment_feed(equipment=equipment, user=user, now=now, closures=closures)
    return _serve(request, user, feed, f"equipment-{pk}.ics", state)


@require_safe
def project_feed(request: HttpRequest, pk: int) -> HttpResponse:
    """A project the reader may see (a confidential one only for its people): else 404."""

    def build(user: Any) -> tuple[feeds.Feed, str] | None:
        project = projects_visible_to(user).prefetch_related(None).filter(pk=pk).first()
        if project is None:
            return None
        feed = feeds.project_feed(project=project, user=user, now=timezone.now())
        return feed, f"project-{pk}.ics"

    return _feed_view(request, build)


@require_safe
def partner_feed(request: HttpRequest, pk: int) -> HttpResponse:
    """Platform managers, the partner's referents and the people of its projects: else 404."""

    def build(user: Any) -> tuple[feeds.Feed, str] | None:
        partners = Partner.objects.all() if is_platform_manager(user) else partners_of_user(user)
        partner = partners.filter(pk=pk).first()
        if partner is None:
            return None
        feed = feeds.partner_feed(partner=partner, user=user, now=timezone.now())
        return feed, f"partner-{pk}.ics"

    return _feed_view(request, build)


@require_safe
def my_feed(request: HttpRequest) -> HttpResponse:
    """What the reader booked, and the reservations of the projects they lead or belong to."""

    def build(user: Any) -> tuple[feeds.Feed, str] | None:
        return feeds.user_feed(user=user, now=timezone.now()), "me.ics"

    return _feed_view(request, build)
