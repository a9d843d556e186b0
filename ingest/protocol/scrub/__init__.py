"""Privacy scrubbing of events and structured logs, run before anything is stored.

Pure Python, no Django.  Everything here works on the JSON-shaped dicts the
normaliser produces and mutates them in place.

What is scrubbed
----------------
* **Sensitive keys.**  A value whose key name looks sensitive is replaced by
  ``"[Filtered]"`` (a whole dict or list under such a key too).  Key names are
  compared case-insensitively, as substrings, with ``-``, ``_`` and ``.``
  ignored, so ``X-Api-Key``, ``apiKey``, ``http.request.header.authorization``
  and ``HTTP_COOKIE`` all match (``ssn``, ``otp``, ``sid``, ``su`` are matched
  against the words of the name so that ``className`` stays).  Key names are
  dict keys, the names of ``[name, value]`` pairs (headers, tags, cookies, query
  strings), cookie and form/query parameter names, log attribute names, and the
  field path of a processing error that quotes an invalid value.  ``None``,
  booleans, empty strings and empty containers are left alone: they hide
  nothing.  ``request.cookies`` itself is not a sensitive key: each cookie name
  is checked (the ``Cookie`` header is filtered whole).
* **In-string patterns** (any string, whatever its key): the token after
  ``Bearer`` / ``Token`` and ``Basic`` credentials (rule ``@bearer:filter``),
  the password of URL credentials (``@urlauth:filter``), Luhn-valid card
  numbers (``@creditcard:filter``: 13-19 digits starting with 2-6, in at most 8
  groups joined by single spaces or dashes), and ``name=value`` /
  ``'name': value`` fragments whose *name* is sensitive (query strings inside
  URLs, Python ``repr()`` of dicts and keyword arguments, JSON text).  Only the
  secret part goes; the rest of the string stays.
* ``request.query_string`` / ``request.data`` / ``request.cookies`` given as
  strings are parsed parameter by parameter (``request.data`` holding JSON text
  is parsed as JSON) and re-encoded with the non-sensitive parts untouched.
* With ``scrub_ip_addresses``: ``user.ip_address``, ``request.env.REMOTE_ADDR``,
  ``X-Forwarded-For`` / ``X-Real-IP`` / ``Forwarded`` headers and similar
  fields (``client.address``, ``sdk.client_ip``) are removed (``@ip:filter``).
* Project ``extra_fields`` are matched like the defaults (``@usersecret:filter``);
  ``safe_fields`` (exact names, normalised the same way) exempt a value and
  everything below it from every rule.

Source lines of stack frames (``pre_context``, ``context_line``,
``post_context``) get the in-string patterns like every other string: a secret hard-coded in the
code around a crash (``password = "..."``) would otherwise be stored. This is stricter than Sentry's
default, and deterministic, so grouping by context line stays stable.  Key names below ``modules`` and ``debug_meta`` are not
checked (they are package names and image paths).  Dict keys are never
rewritten.

Every replacement is recorded in ``_meta`` in Sentry's shape::

    {"request": {"headers": {"3": {"1": {"": {"rem": [["@password:filter", "s", 0, 10]],
                                               "len": 12}}}}}}

``rem`` entries are ``[rule_id, "s", start, end]`` (substituted; the range is
where ``[Filtered]`` now sits in the new string), ``[rule_id, "s"]`` (inside
re-serialised JSON text) or ``[rule_id, "x"]`` (removed); ``len`` is the
original length (characters of a string, items of a container).  Entries are
merged into any ``_meta`` the SDK sent; original values the SDK put in its
``_meta`` (``"val"``) are dropped.  Paths deeper than 200 levels, or through an
empty-string key, are scrubbed but not recorded.

Scrubbing is idempotent and never raises on JSON-shaped input; should it fail
anyway, every string except identifiers and frame locations is replaced
(fail closed).

Speed: key verdicts are memoised per config, cheap substring tests gate every
regex, and strings already found clean are remembered per config (bounded:
20,000 strings of up to 512 characters; only clean strings, so nothing that was
scrubbed is kept), so text that recurs from event to event costs one set lookup.
"""

from .config import DEFAULT_SCRUB_CONFIG, FILTERED, ScrubConfig
from .event import scrub_event
from .fields import scrub_fields
from .log import scrub_log
from .patterns import scrub_string

__all__ = [
    "DEFAULT_SCRUB_CONFIG",
    "FILTERED",
    "ScrubConfig",
    "scrub_event",
    "scrub_fields",
    "scrub_log",
    "scrub_string",
]
