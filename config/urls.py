from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic.base import RedirectView

from accounts.views import admin_login, login
from config.health import health, web_health
from config.status import status_page
from issues import api, project_settings, views
from usage.views import organization_usage

api_patterns = [
    path("projects/<slug:org_slug>/<slug:project_slug>/issues/", api.ProjectIssuesView.as_view()),
    path("issues/<str:issue_id>/", api.IssueView.as_view()),
    path("issues/<str:issue_id>/events/", api.IssueEventsView.as_view()),
    path("issues/<str:issue_id>/hashes/", api.IssueHashesView.as_view()),
    path("issues/<str:issue_id>/events/<str:event_id>/", api.IssueEventView.as_view()),
]

urlpatterns = [
    path("", include("ingest.urls")),
    path("api/0/", include(api_patterns)),
    path("_health/", health, name="health"),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon">, such as raw JSON answers.
    path(
        "favicon.ico",
        RedirectView.as_view(url=f"{settings.STATIC_URL}lighttrace/favicon.svg", permanent=True),
    ),
    path("_health/web/", web_health, name="web-health"),
    path("status/", status_page, name="status"),
    path("login/", login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/login/", admin_login),  # before admin.site.urls, so the throttled view answers
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
    path("", include("projects.urls")),
    path("account/", include("accounts.page_urls")),
    path("organizations/<slug:org_slug>/usage/", organization_usage, name="organization-usage"),
    path("organizations/<slug:org_slug>/projects/<slug:project_slug>/", views.issue_list, name="issue-list"),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/settings/",
        project_settings.project_settings,
        name="project-settings",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/merge/",
        views.merge_selected,
        name="issue-merge",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/unmerge/",
        views.unmerge_hash,
        name="issue-unmerge",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/",
        views.issue_detail,
        name="issue-detail",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/events/<str:event_id>/",
        views.issue_detail,
        name="issue-event",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/status/",
        views.issue_set_status,
        name="issue-status",
    ),
]
