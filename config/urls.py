from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic.base import RedirectView

from accounts.views import admin_login, login
from alerts import api as alerts_api
from alerts import views as alerts_views
from config.health import health, web_health
from config.status import status_page
from ingest import feedback_api
from issues import (
    api,
    api_feedback,
    api_issues,
    api_tags,
    event_api,
    project_settings,
    release_api,
    release_files_api,
    release_pages,
    views,
    views_feedback,
    views_issue_tabs,
    views_stream,
    views_triage,
)
from logs import api as logs_api
from logs import views as logs_views
from projects import api as projects_api
from releases import api as releases_api
from sourcemaps import api as sourcemaps_api
from usage import api as usage_api
from usage.views import organization_usage

ORG = "organizations/<slug:org_slug>"
PROJECT = "projects/<slug:org_slug>/<slug:project_slug>"
RELEASE = f"{ORG}/releases/<str:version>"
# Regular-expression forms, for paths with alternatives (Sentry's `notes|comments`).
ISSUE = r"issues/(?P<issue_id>[^/]+)"
ORG_ISSUE = r"organizations/(?P<org_slug>[-a-zA-Z0-9_]+)/issues/(?P<issue_id>[^/]+)"

api_patterns = [
    path("projects/<slug:org_slug>/<slug:project_slug>/issues/", api_issues.ProjectIssuesView.as_view()),
    path("organizations/<slug:org_slug>/issues/", api_issues.OrganizationIssuesView.as_view()),
    path("organizations/<slug:org_slug>/issues/<str:issue_id>/", api_issues.IssueView.as_view()),
    path("issues/<str:issue_id>/", api_issues.IssueView.as_view()),
    # Sentry's issue paths, without and with the organization; `notes/` is its older name.
    re_path(rf"^{ISSUE}/(?:notes|comments)/$", api_issues.IssueCommentsView.as_view()),
    re_path(rf"^{ISSUE}/(?:notes|comments)/(?P<note_id>[^/]+)/$", api_issues.IssueCommentView.as_view()),
    re_path(rf"^{ORG_ISSUE}/(?:notes|comments)/$", api_issues.IssueCommentsView.as_view()),
    re_path(rf"^{ORG_ISSUE}/(?:notes|comments)/(?P<note_id>[^/]+)/$", api_issues.IssueCommentView.as_view()),
    path("projects/<slug:org_slug>/<slug:project_slug>/rules/", alerts_api.ProjectRulesView.as_view()),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/rules/<int:rule_id>/",
        alerts_api.ProjectRuleView.as_view(),
    ),
    path("issues/<str:issue_id>/hashes/", api.IssueHashesView.as_view()),
    path("issues/<str:issue_id>/user-reports/", api_feedback.IssueUserReportsView.as_view()),
    path(f"{ORG}/issues/<str:issue_id>/user-reports/", api_feedback.IssueUserReportsView.as_view()),
    path("issues/<str:issue_id>/events/", api.IssueEventsView.as_view()),
    path("issues/<str:issue_id>/events/recommended/", event_api.IssueRecommendedEventView.as_view()),
    path("issues/<str:issue_id>/events/<str:event_id>/", api.IssueEventView.as_view()),
    path("issues/<str:issue_id>/tags/", api_tags.IssueTagsView.as_view()),
    path("issues/<str:issue_id>/tags/<str:key>/", api_tags.IssueTagView.as_view()),
    path("issues/<str:issue_id>/tags/<str:key>/values/", api_tags.IssueTagValuesView.as_view()),
    path(f"{ORG}/issues/<str:issue_id>/events/", api.IssueEventsView.as_view()),
    path(f"{ORG}/issues/<str:issue_id>/events/recommended/", event_api.IssueRecommendedEventView.as_view()),
    path(f"{ORG}/issues/<str:issue_id>/events/<str:event_id>/", api.IssueEventView.as_view()),
    path(f"{ORG}/issues/<str:issue_id>/tags/", api_tags.IssueTagsView.as_view()),
    path(f"{ORG}/issues/<str:issue_id>/tags/<str:key>/", api_tags.IssueTagView.as_view()),
    path(f"{ORG}/issues/<str:issue_id>/tags/<str:key>/values/", api_tags.IssueTagValuesView.as_view()),
    path("organizations/<slug:org_slug>/chunk-upload/", sourcemaps_api.ChunkUploadView.as_view()),
    path(
        "organizations/<slug:org_slug>/artifactbundle/assemble/",
        sourcemaps_api.ArtifactBundleAssembleView.as_view(),
    ),
    path("", projects_api.IndexView.as_view()),
    path("organizations/", projects_api.OrganizationsView.as_view()),
    path(f"{ORG}/", projects_api.OrganizationView.as_view()),
    path(f"{ORG}/projects/", projects_api.OrganizationProjectsView.as_view()),
    path(f"{ORG}/teams/", projects_api.OrganizationTeamsView.as_view()),
    path(f"{ORG}/members/", projects_api.OrganizationMembersView.as_view()),
    path(f"{ORG}/members/<str:member_id>/", projects_api.OrganizationMemberView.as_view()),
    path(f"{ORG}/eventids/<str:event_id>/", event_api.EventIdLookupView.as_view()),
    path(f"{ORG}/stats_v2/", usage_api.OrganizationStatsV2View.as_view()),
    path(f"{ORG}/environments/", releases_api.OrganizationEnvironmentsView.as_view()),
    path(f"{ORG}/releases/", releases_api.OrganizationReleasesView.as_view()),
    path(f"{RELEASE}/", release_api.OrganizationReleaseDetailsView.as_view()),
    path(f"{RELEASE}/deploys/", releases_api.ReleaseDeploysView.as_view()),
    path(f"{RELEASE}/files/", release_files_api.ReleaseFilesView.as_view()),
    path(f"{RELEASE}/files/<str:file_id>/", release_files_api.ReleaseFileView.as_view()),
    path("projects/", projects_api.ProjectsView.as_view()),
    path(f"{PROJECT}/", projects_api.ProjectView.as_view()),
    path(f"{PROJECT}/keys/", projects_api.ProjectKeysView.as_view()),
    path(f"{PROJECT}/keys/<str:key_id>/", projects_api.ProjectKeyView.as_view()),
    path(f"{PROJECT}/environments/", releases_api.ProjectEnvironmentsView.as_view()),
    path(f"{PROJECT}/releases/", releases_api.ProjectReleasesView.as_view()),
    path(f"{PROJECT}/releases/<str:version>/", release_api.ProjectReleaseDetailsView.as_view()),
    path(f"{PROJECT}/releases/<str:version>/files/", release_files_api.ReleaseFilesView.as_view()),
    path(
        f"{PROJECT}/releases/<str:version>/files/<str:file_id>/", release_files_api.ReleaseFileView.as_view()
    ),
    path(f"{PROJECT}/events/", event_api.ProjectEventsView.as_view()),
    path(f"{PROJECT}/events/<str:event_id>/", event_api.ProjectEventView.as_view()),
    path(f"{PROJECT}/stats/", usage_api.ProjectStatsView.as_view()),
    path(f"{PROJECT}/user-feedback/", feedback_api.ProjectUserFeedbackView.as_view()),
    path(f"{PROJECT}/user-reports/", feedback_api.ProjectUserFeedbackView.as_view()),
    path("projects/<slug:org_slug>/<slug:project_slug>/logs/", logs_api.ProjectLogsView.as_view()),
    path("organizations/<slug:org_slug>/logs/", logs_api.OrganizationLogsView.as_view()),
    # Last: every other /api/0/ path and method answers JSON, never an HTML page.
    re_path(r"^.*$", projects_api.unknown_route),
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
    path("account/", include("accounts.urls")),
    path("admin/login/", admin_login),  # before admin.site.urls, so the throttled view answers
    path("admin/", admin.site.urls),
    path("", views.home, name="home"),
    path("", include("projects.urls")),
    path("account/", include("accounts.page_urls")),
    path("organizations/<slug:org_slug>/usage/", organization_usage, name="organization-usage"),
    path("organizations/<slug:org_slug>/logs/", logs_views.organization_logs, name="organization-logs"),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/",
        views_stream.issue_list,
        name="issue-list",
    ),
    path(
        "organizations/<slug:org_slug>/issues/", views_stream.organization_issues, name="organization-issues"
    ),
    path(
        "organizations/<slug:org_slug>/issues/bulk/",
        views_stream.organization_bulk_action,
        name="organization-issue-bulk",
    ),
    path("organizations/<slug:org_slug>/searches/", views_stream.saved_search, name="saved-search"),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/releases/",
        release_pages.project_releases,
        name="project-releases",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/releases/<str:version>/",
        release_pages.release_detail,
        name="release-detail",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/logs/",
        logs_views.project_logs,
        name="project-logs",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/feedback/",
        views_feedback.project_feedback,
        name="project-feedback",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/feedback/",
        views_feedback.issue_feedback,
        name="issue-feedback",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/settings/",
        project_settings.project_settings,
        name="project-settings",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/bulk/",
        views_stream.bulk_action,
        name="issue-bulk",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/alerts/",
        alerts_views.rule_list,
        name="alert-rules",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/alerts/new/",
        alerts_views.rule_edit,
        name="alert-rule-new",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/alerts/<int:rule_id>/",
        alerts_views.rule_edit,
        name="alert-rule-edit",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/alerts/mute/",
        alerts_views.mute,
        name="alert-mute",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/alerts/<int:rule_id>/test/<int:index>/",
        alerts_views.rule_test,
        name="alert-rule-test",
    ),
    path("alerts/unsubscribe/<str:token>/", alerts_views.unsubscribe_link, name="alert-unsubscribe"),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/alerts/<int:rule_id>/<str:action>/",
        alerts_views.rule_action,
        name="alert-rule-action",
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
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/events/",
        views_issue_tabs.issue_events,
        name="issue-events",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/users/",
        views_issue_tabs.issue_tag_values,
        name="issue-users",
    ),
    path(
        "organizations/<slug:org_slug>/projects/<slug:project_slug>/issues/<int:issue_id>/tags/<str:key>/",
        views_issue_tabs.issue_tag_values,
        name="issue-tag-values",
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
