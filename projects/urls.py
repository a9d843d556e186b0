"""Organization, team, member and client-key pages. Included before the issue pages: `projects/new/`
would otherwise be read as a project called "new" (a reserved slug, projects/forms.py)."""

from django.urls import path

from . import member_views, views

ORG = "organizations/<slug:org_slug>/"
PROJECT = ORG + "projects/<slug:project_slug>/"

urlpatterns = [
    path("organizations/new/", views.organization_new, name="organization-new"),
    path(ORG, views.organization, name="organization"),
    path(ORG + "projects/new/", views.project_new, name="project-new"),
    path(PROJECT + "keys/", views.project_keys, name="project-keys"),
    path(PROJECT + "keys/<int:key_id>/rotate/", views.key_rotate, name="key-rotate"),
    path(PROJECT + "keys/<int:key_id>/active/", views.key_active, name="key-active"),
    path(ORG + "teams/", member_views.teams, name="teams"),
    path(ORG + "teams/<slug:team_slug>/", member_views.team, name="team"),
    path(ORG + "members/", member_views.members, name="members"),
    path(ORG + "members/<int:member_id>/", member_views.member_change, name="member-change"),
    path(ORG + "members/invites/<int:invite_id>/", member_views.invite_change, name="invite-change"),
    path("invite/<str:token>/", member_views.invite_accept, name="invite-accept"),
]
