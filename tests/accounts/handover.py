"""The logout's hand-over page, as a test reads it."""

from __future__ import annotations

import re


def handover_url(status: int, html: str) -> str:
    """The protocol's logout URL that POST /accounts/logout/'s page moves on to by itself
    (meta refresh) and links to; fails unless the page is that hand-over."""
    assert status == 200, status
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', html)
    assert refresh, html
    url = refresh.group(1)
    assert f'href="{url}"' in html  # and a link, for a browser that ignores the refresh
    return url
