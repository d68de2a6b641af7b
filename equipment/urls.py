"""The inventory's pages that need no bookings: none today.

The catalogue (its free-time filter reads bookings) is reservations.web.catalogue and the
equipment page reservations.web.equipment; platform_booking.urls gathers them under the
`equipment` namespace.
"""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
