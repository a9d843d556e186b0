"""Forms of the organization pages. Slugs come from names, as in Sentry; reserved words are path
segments of the pages themselves."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.text import slugify

from .models import OrganizationMember, Team

RESERVED_SLUGS = {"new", "settings", "members", "teams", "usage", "projects", "keys"}
PLATFORMS = [
    ("python", "Python"),
    ("node", "Node.js"),
    ("javascript", "Browser JavaScript"),
    ("other", "Other"),
]


def slug_of(name: str) -> str:
    slug = slugify(name)[:64].strip("-")
    if not slug:
        raise forms.ValidationError("Use at least one letter or digit.")
    if slug in RESERVED_SLUGS:
        raise forms.ValidationError(f"“{slug}” is reserved; choose another name.")
    return slug


class NamedForm(forms.Form):
    name = forms.CharField(max_length=64)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        self.slug = slug_of(name)
        return name


class OrganizationForm(NamedForm):
    pass


class TeamForm(NamedForm):
    pass


class ProjectForm(NamedForm):
    platform = forms.ChoiceField(choices=PLATFORMS, initial="python")
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        help_text="None chosen: a new team named after the project.",
    )

    def __init__(self, *args, org, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = org.teams.order_by("slug")  # type: ignore[attr-defined]


class InviteForm(forms.Form):
    email = forms.EmailField(required=False, help_text="Optional: the link is also mailed there.")
    role = forms.ChoiceField(choices=OrganizationMember.Role.choices, initial=OrganizationMember.Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=OrganizationMember.Role.choices)


class SignupForm(forms.Form):
    """The account an invite creates."""

    username = forms.RegexField(regex=r"^[\w.@+-]+\Z", max_length=150)
    name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken.")
        return username

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password1"):
            try:
                password_validation.validate_password(data["password1"])
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data
