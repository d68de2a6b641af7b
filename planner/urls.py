"""The term planner's pages, under `/planner/` (namespace `planner`)."""

from django.urls import path

from . import web

app_name = "planner"

urlpatterns = [
    path("", web.plan_list, name="list"),
    path("<int:pk>/", web.plan_detail, name="detail"),
    path("<int:pk>/classes/", web.request_add, name="request_add"),
    path("<int:pk>/classes/<int:request_id>/remove/", web.request_remove, name="request_remove"),
    path("<int:pk>/solve/", web.solve, name="solve"),
    path("<int:pk>/commit/", web.commit, name="commit"),
    path("<int:pk>/delete/", web.delete, name="delete"),
]
