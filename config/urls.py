from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic.base import RedirectView

from accounts.views import admin_login, login
from config.health import health, web_health
from config.status import status_page
from issues import api, api_issues, project_settings, views, views_triage
from usage.views import organization_usage

api_patterns = [
    path("projects/<slug:org_slug>/<slug:project_slug>/issues/", api_issues.ProjectIssuesView.as_view()),
    path("organizations/<slug:org_slug>/issues/", api_issues.OrganizationIssuesView.as_view()),
    path("organizations/<slug:org_slug>/issues/<str:issue_id>/", api_issues.IssueView.as_view()),
    path("issues/<str:issue_id>/", api_issues.IssueView.as_view()),
    path("issues/<str:issue_id>/comments/", api_issues.IssueCommentsView.as_view()),
    path("issues/<str:issue_id>/comments/<str:note_id>/", api_issues.IssueCommentView.as_view()),
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
    path("organizations/<slug:org_slug>/usage/", organization_usage, name="organization-usage"),
    path("organizations/<slug:org_slug>/projects/<slug:project_slug>/", views.issue_list, name="issue-list"),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/settings/",
        project_settings.project_settings,
        name="project-settings",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/bulk/",
        views_triage.bulk_action,
        name="issue-bulk",
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
        views_triage.issue_set_status,
        name="issue-status",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/assign/",
        views_triage.issue_assign,
        name="issue-assign",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/<str:flag>/toggle/",
        views_triage.issue_flag,
        name="issue-flag",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/delete/",
        views_triage.issue_delete,
        name="issue-delete",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/comments/",
        views_triage.issue_comment,
        name="issue-comment",
    ),
]
