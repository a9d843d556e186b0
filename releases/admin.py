from django.contrib import admin

from .models import Deploy, Release


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["version", "organization", "date_added", "date_released", "last_event"]
    list_filter = ["organization"]
    search_fields = ["version"]


@admin.register(Deploy)
class DeployAdmin(admin.ModelAdmin):
    list_display = ["release", "environment", "name", "date_finished"]
