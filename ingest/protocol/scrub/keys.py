"""Which key names are sensitive: the key classifier (memoised per config), and the strings it
remembers as clean for that config."""

from __future__ import annotations

import re
from typing import Any

from .config import RULE_IP, RULE_PASSWORD, RULE_USER, ScrubConfig

# Classification codes.
PLAIN = 0
SECRET = 1  # default sensitive key -> @password:filter
USER = 2  # project-configured sensitive field -> @usersecret:filter
IP = 3  # IP field, only when scrub_ip_addresses
SAFE = 4  # project-configured safe field: the whole subtree is left untouched

RULE_FOR_CODE = {SECRET: RULE_PASSWORD, USER: RULE_USER, IP: RULE_IP}

# Matched as substrings of the normalised key (lower case, "-", "_", "." removed).  This covers
# Relay's default key rule (password, secret, passwd, api_key, apikey, auth, credentials,
# mysql_pwd, privatekey, private_key, token, two_factor) and its default sensitive cookie names
# (session, sessionid, user_session, phpsessid, fasthttpsessionid, irissessionid, sentrysid,
# _vercel_jwt, csrf/xsrf variants) plus the names sentry-python's own denylist adds.
_SUBSTRING_NEEDLES = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "apikey",
    "token",
    "auth",  # also authorization, authentication, oauth
    "credential",
    "cookie",
    "session",
    "sessid",  # phpsessid
    "csrf",
    "xsrf",
    "privatekey",
    "twofactor",
    "jwt",
    "usssn",
)
# Short needles matched against the words of the key (split at separators and camelCase) so
# that "className" or "business_name" do not match "ssn" and "inside" does not match "sid".
#   word starts or ends with it:
_WORD_EDGE_NEEDLES = ("ssn", "otp")
#   word ends with it (connect.sid, sentrysid, phpsessid):
_WORD_END_NEEDLES = ("sid",)
#   whole word (Sentry's superuser cookies):
_WORD_EXACT_NEEDLES = frozenset(("su", "sudo"))

# Key names (normalised) holding IP addresses, removed when scrub_ip_addresses is on.
_IP_KEY_SUFFIXES = (
    "ipaddress",  # user.ip_address
    "remoteaddr",  # REMOTE_ADDR
    "xforwardedfor",
    "xrealip",
    "clientaddress",  # OTel client.address
    "clientip",  # sdk.client_ip, True-Client-IP
    "connectingip",  # CF-Connecting-IP
)
_IP_KEY_EXACT = frozenset(("forwarded", "userip", "ip"))

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_NORM_TABLE = str.maketrans("", "", "-_.")


def _normalise(name: str) -> str:
    return name.lower().translate(_NORM_TABLE)


def _is_default_sensitive(name: str, norm: str) -> bool:
    for needle in _SUBSTRING_NEEDLES:
        if needle in norm:
            return True
    for raw in _WORD_SPLIT.split(name):
        if not raw:
            continue
        word = raw.lower()
        if word in _WORD_EXACT_NEEDLES:
            return True
        for needle in _WORD_EDGE_NEEDLES:
            if word.startswith(needle) or word.endswith(needle):
                return True
        for needle in _WORD_END_NEEDLES:
            if word.endswith(needle):
                return True
    return False


class Classifier:
    """Memoised ``key name -> code`` for one config (bounded; cleared when it grows too large)."""

    __slots__ = ("memo", "clean", "extra", "safe", "scrub_ip")

    MAX_ENTRIES = 20_000
    # Strings already scanned and found to hold nothing to scrub.  Source lines, SQL templates,
    # reprs and URLs recur in event after event of the same application; only clean strings are
    # kept, so nothing that was scrubbed stays in memory.
    MAX_CLEAN = 20_000
    MAX_CLEAN_LEN = 512

    def __init__(self, config: ScrubConfig) -> None:
        self.memo: dict[Any, int] = {}
        self.clean: set[str] = set()
        self.extra = tuple(n for n in (_normalise(str(f).strip()) for f in config.extra_fields) if n)
        self.safe = frozenset(n for n in (_normalise(str(f).strip()) for f in config.safe_fields) if n)
        self.scrub_ip = bool(config.scrub_ip_addresses)

    def classify(self, key: Any) -> int:
        memo = self.memo
        code = memo.get(key)
        if code is not None:
            return code
        name = key if type(key) is str else str(key)
        norm = _normalise(name)
        if norm in self.safe:
            code = SAFE
        elif _is_default_sensitive(name, norm):
            code = SECRET
        elif any(f in norm for f in self.extra):
            code = USER
        elif self.scrub_ip and (norm in _IP_KEY_EXACT or norm.endswith(_IP_KEY_SUFFIXES)):
            code = IP
        else:
            code = PLAIN
        if len(memo) >= self.MAX_ENTRIES:
            memo.clear()
        memo[key] = code
        return code


_CLASSIFIERS: dict[ScrubConfig, Classifier] = {}


def classifier_for(config: ScrubConfig) -> Classifier:
    cls = _CLASSIFIERS.get(config)
    if cls is None:
        if len(_CLASSIFIERS) >= 256:
            _CLASSIFIERS.clear()
        cls = _CLASSIFIERS[config] = Classifier(config)
    return cls
