"""Function-name clean-up for C# and native frames.

SDKs for C#, C/C++, Objective-C, Swift and Rust report symbol names with
signatures, template arguments, return types and compiler decorations.  Only
the bare function name is stable across builds and compilers, so that is what
grouping uses.  Other platforms keep their function names unchanged here.
"""

from __future__ import annotations

import re

NATIVE_PLATFORMS = frozenset(("objc", "cocoa", "swift", "native", "c"))

_WINDOWS_DECL = re.compile(r"^@?(.*?)@[0-9]+$")
_RUST_HASH = re.compile(r"::h[a-z0-9]{16}$")
_GLIBC_VERSION = re.compile(r"@@?GLIBC_([0-9.]+)$")
_CPP_TRAILER = re.compile(r"(\bconst\b|&)$")
_RUST_BLANKET = re.compile(r"^([A-Z] as )")
_LAMBDA = re.compile(r"\{lambda\(.*?\)#\d+\}|\blambda_[a-f0-9]{32}\b|\$_\d+\b")
_ANON_NAMESPACE = re.compile(r"\?A0x[a-f0-9]{8}::")
_TOKEN_BREAK = re.compile(r"\s|[({<\[]")
_PAIRS = {"(": ")", "{": "}", "[": "]", "<": ">"}

# Placeholders for operator names that would confuse bracket balancing.
_PROTECT = (
    ("operator<<", "operator\u27e8\u27e8"),
    ("operator<", "operator\u27e8"),
    ("operator()", "operator\u25ef"),
    ("operator->", "operator\u27ff"),
    (" -> ", " \u27ff "),
    ("`anonymous namespace'", "\u3014anonymousnamespace\u3015"),
)


def trim_function_name(function: str, platform: str | None) -> str:
    if platform == "csharp":
        return function.split(" (", 1)[0]
    if platform in NATIVE_PLATFORMS:
        return trim_native_function_name(function, platform)
    return function


def _replace_enclosed(text: str, start: str, end: str, replace: object) -> str:
    """Replace every outermost ``start ... end`` span via ``replace(inner, offset)``."""
    if start not in text:
        return text
    depth = 0
    out: list[str] = []
    opened = 0
    for idx, char in enumerate(text):
        if char == start:
            if depth == 0:
                opened = idx
            depth += 1
        elif char == end:
            depth -= 1
            if depth == 0:
                if isinstance(replace, str):
                    out.append(replace)
                elif callable(replace):
                    out.append(replace(text[opened + 1 : idx], opened))
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _split_tokens(text: str) -> list[str]:
    if text and _TOKEN_BREAK.search(text) is None:
        return [text]
    tokens: list[str] = []
    buf: list[str] = []
    stack: list[str] = []
    end = 0
    for idx, char in enumerate(text):
        if char in _PAIRS:
            stack.append(_PAIRS[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                buf.append(text[end : idx + 1])
                end = idx + 1
        elif not stack:
            if char.isspace():
                if buf:
                    tokens.append("".join(buf))
                buf = []
            else:
                buf.append(text[end : idx + 1])
            end = idx + 1
    if buf:
        tokens.append("".join(buf))
    return tokens


def _strip_brackets(value: str, _offset: int) -> str:
    return "" if value.startswith("clone .") else f"[{value}]"


def _strip_args(value: str, _offset: int) -> str:
    value = value.strip()
    return f"({value})" if value in ("anonymous namespace", "operator") else ""


def _generics(value: str, offset: int) -> str:
    if value == "lambda" or _LAMBDA.match(value):
        return f"<{value}>"
    if offset > 0:
        return "<T>"
    value = _RUST_BLANKET.sub("", value)
    value = _replace_enclosed(value, "<", ">", _generics)
    return value.split(" as ", 1)[0]


def trim_native_function_name(function: str, platform: str | None) -> str:
    if function in ("<redacted>", "<unknown>"):
        return function
    original = function
    function = function.strip()
    if function.startswith(("[", "+[", "-[")):
        return function  # Objective-C selectors are already clean
    function = _replace_enclosed(function, "[", "]", _strip_brackets).rstrip()
    while (match := _CPP_TRAILER.search(function)) is not None:
        function = function[: match.start()].rstrip()
    for plain, placeholder in _PROTECT:
        function = function.replace(plain, placeholder)
    if "lambda" in function or "$_" in function:
        function = _LAMBDA.sub("lambda", function)
    if "?A0x" in function:
        function = _ANON_NAMESPACE.sub("\u3014anonymousnamespace\u3015::", function)
    function = _replace_enclosed(function, "(", ")", _strip_args)
    function = _replace_enclosed(function, "<", ">", _generics)
    token = _pick_function_token(function, platform)
    if token is None:
        function = original
    else:
        function = (
            token.replace("\u27e8", "<")
            .replace("\u25ef", "()")
            .replace("\u27ff", "->")
            .replace("\u3014anonymousnamespace\u3015", "`anonymous namespace'")
        )
    if "::h" in function:
        function = _RUST_HASH.sub("", function)
    if "@GLIBC_" in function:
        function = _GLIBC_VERSION.sub("", function)
    return _WINDOWS_DECL.sub(r"\1", function) if "@" in function else function


def _pick_function_token(function: str, platform: str | None) -> str | None:
    is_thunk = "thunk for " in function
    tokens = _split_tokens(function)
    if len(tokens) > 1 and tokens[-1] == "<T>":
        tokens.pop()
        tokens[-1] += " <T>"
    if not tokens:
        return None
    if "initialization expression of" in function and "of" in tokens:
        last_of = len(tokens) - 1 - tokens[::-1].index("of")
        token = tokens[last_of + 1] if last_of + 1 < len(tokens) else tokens[-1]
        if token == "static" and last_of + 2 < len(tokens):
            token = tokens[last_of + 2]
        token = "initializer expression of " + (token[1:] if token.startswith(":") else token)
    elif "\u27ff" in tokens:
        arrow = len(tokens) - 1 - tokens[::-1].index("\u27ff")
        token = tokens[arrow - 1] if arrow >= 1 else tokens[-1]
        if token == "throws" and arrow >= 2:
            token = tokens[arrow - 2]
    else:
        token = tokens[-1]
    if token.startswith("@") and platform in ("cocoa", "swift"):
        return ("thunk for " if is_thunk else "") + "closure"
    if "closure" in tokens and token != "closure":
        return "closure in " + token
    return token
