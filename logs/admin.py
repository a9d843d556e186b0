from django.contrib import admin

from .models import LogRetention


@admin.register(LogRetention)
class LogRetentionAdmin(admin.ModelAdmin):
    list_display = ("project", "days")
