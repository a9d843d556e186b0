import orjson
from django import template

register = template.Library()


@register.filter
def pretty(value) -> str:
    """Indented JSON as plain text; the template's autoescaping still applies to the result."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(value)


@register.filter
def pairs(value):
    """Headers, cookies and query strings arrive as dicts or as [name, value] pairs; show both alike."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return [tuple(p) for p in value if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


@register.filter
def ago(moment) -> str:
    """ "just now", "5 minutes ago", "3 days ago": the largest unit only (a list row stays one line)."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, depth=1)} ago"
