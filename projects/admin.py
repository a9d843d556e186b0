"""Django admin for instance operators (superusers): organizations with their monthly quota, projects
with their share of it, their retention and their scrubbing and grouping settings, keys with their
rate limits."""

from django.contrib import admin

from .models import Organization, OrganizationMember, Project, ProjectKey, Team


class MemberInline(admin.TabularInline):
    model = OrganizationMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "monthly_event_quota", "created"]
    search_fields = ["slug", "name"]
    inlines = [MemberInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["slug", "organization"]
    filter_horizontal = ["members"]


class KeyInline(admin.TabularInline):
    model = ProjectKey
    extra = 0
    fields = ["public_key", "label", "is_active", "rate_limit_per_minute"]
    readonly_fields = ["public_key"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "organization",
        "platform",
        "monthly_event_quota",
        "retention_days",
        "max_events_per_issue",
        "grouping_config",
    ]
    list_filter = ["organization"]
    search_fields = ["slug", "name"]
    readonly_fields = ["issue_counter", "secondary_grouping_config", "secondary_grouping_expiry"]
    inlines = [KeyInline]
