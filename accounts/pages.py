"""Account pages: one's own name, and API tokens (created, shown once, revoked)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import SCOPES, ApiToken


class NameForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name"]


class TokenForm(forms.Form):
    label = forms.CharField(max_length=64, required=False)
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in SCOPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Sentry's scopes; none chosen: all of them. A CI job uploading releases and source "
        "maps needs only project:releases.",
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    form = NameForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("/account/?saved=1")
    return render(request, "accounts/account.html", {"form": form, "saved": request.GET.get("saved") == "1"})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        # Rendered in this response only (no redirect): only the token's hash is stored.
        data = form.cleaned_data
        _, new_token = ApiToken.issue(
            request.user, label=data["label"] or "web", scopes=data["scopes"] or None
        )
        form = TokenForm()
    rows = list(request.user.api_tokens.order_by("-created"))  # type: ignore[union-attr]
    for row in rows:
        row.scopes_text = (
            "all" if set(row.scopes or ()) >= set(SCOPES) else ", ".join(row.scopes or ()) or "none"
        )
    return render(request, "accounts/tokens.html", {"form": form, "tokens": rows, "new_token": new_token})


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    deleted, _ = ApiToken.objects.filter(user=request.user, pk=token_id).delete()
    if not deleted:
        raise Http404("No such token")
    return redirect("account-tokens")
