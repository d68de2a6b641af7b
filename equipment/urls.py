from django.urls import path

from . import views

app_name = "equipment"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("<int:pk>/", views.detail, name="detail"),
]
