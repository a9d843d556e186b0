from django.contrib import admin

from .models import Outcome


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ["hour", "organization", "project", "category", "outcome", "reason", "quantity"]
    list_filter = ["outcome", "category", "organization"]
    date_hierarchy = "hour"
