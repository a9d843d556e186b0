"""The project settings page: grouping config and rules, data scrubbing, retention. Rules are validated
on save."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from projects.access import can_manage
from projects.models import Project

from .access import get_project
from .grouping import RuleSyntaxError, get_config_ids, parse_enhancements, parse_fingerprint_rules
from .rules_budget import resume_rules, rules_budget

# How long events are also hashed with the previous config after an upgrade.
TRANSITION_WINDOW = timedelta(days=30)


class ProjectSettingsForm(forms.ModelForm):
    grouping_config = forms.ChoiceField(choices=())

    class Meta:
        model = Project
        fields = [
            "grouping_config",
            "fingerprint_rules",
            "stacktrace_rules",
            "scrub_extra_fields",
            "scrub_safe_fields",
            "scrub_ip_addresses",
            "retention_days",
            "max_events_per_issue",
        ]
        widgets = {
            "fingerprint_rules": forms.Textarea(attrs={"rows": 6, "class": "mono"}),
            "stacktrace_rules": forms.Textarea(attrs={"rows": 6, "class": "mono"}),
            "scrub_extra_fields": forms.Textarea(attrs={"rows": 3}),
            "scrub_safe_fields": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grouping_config"].choices = [(c, c) for c in get_config_ids()]

    def _clean_rules(self, field: str, parser) -> str:
        text = self.cleaned_data.get(field) or ""
        try:
            parser(text)
        except RuleSyntaxError as exc:
            raise forms.ValidationError(f"line {exc.line}: {exc.message}") from exc
        return text

    def clean_fingerprint_rules(self) -> str:
        return self._clean_rules("fingerprint_rules", parse_fingerprint_rules)

    def clean_stacktrace_rules(self) -> str:
        return self._clean_rules("stacktrace_rules", parse_enhancements)


@login_required
def project_settings(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = get_project(request.user, org_slug, project_slug)
    manage = can_manage(request.user, project.organization)
    previous_config = project.grouping_config
    form = ProjectSettingsForm(request.POST or None, instance=project)
    if request.method == "POST":
        if not manage:
            raise PermissionDenied("Only owners and managers can change these settings")
        if form.is_valid():
            updated = form.save(commit=False)
            if updated.grouping_config != previous_config:
                updated.secondary_grouping_config = previous_config
                updated.secondary_grouping_expiry = timezone.now() + TRANSITION_WINDOW
            resume_rules(updated)  # saving the rules tries them again
            updated.save()
            return redirect(request.path + "?saved=1")
    context = {
        "project": project,
        "form": form,
        "can_manage": manage,
        "keys": list(project.keys.order_by("-is_active", "id")),
        "saved": request.GET.get("saved"),
        "rules_budget_ms": rules_budget().cpu_seconds * 1000,
    }
    return render(request, "issues/project_settings.html", context)
