"""Python-SDK-shaped load for the ingest benchmark (bench/run.py).

The envelope follows the real capture ``tests/fixtures/sdk/sentry.python-2.75.0/scope_enrichment``
(same envelope header, item header, key order and field formats, same HTTP headers), scaled to what
a Django app on sentry-sdk 2.75 sends for a real error: 15 frames with 5 lines of pre/post context
and local ``vars``, 20 breadcrumbs, ``request``, user, tags, contexts, ``extra`` and ``modules``.

Context lines are real source lines: they are read from functions of packages installed in this
virtualenv (Django, DRF, Celery, kombu, the standard library), also for the "in-app" frames, which
get app module names. Each of the 10 issues has its own exception type and its own innermost
functions (so it groups apart); everything that varies per event in a real SDK (event_id, trace and
span ids, timestamps, object addresses in ``vars``, user, order ids) varies here too.

Bodies are gzipped at level 9 like the Python SDK. A pool is written to one file of
length-prefixed bodies so the load generator only reads and sends.
"""

from __future__ import annotations

import ast
import gzip
import linecache
import os
import random
import struct
import sys
import sysconfig
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests/fixtures/sdk/sentry.python-2.75.0/scope_enrichment"
SDK = "sentry.python/2.75.0"
APP_ROOT = "/srv/shop"
SITE = "/srv/shop/.venv/lib/python3.11/site-packages"

# (file relative to site-packages or "stdlib:", function) of real installed code.
_LIB_SOURCES = [
    ("django/core/handlers/exception.py", "inner"),
    ("django/core/handlers/base.py", "_get_response"),
    ("django/views/decorators/csrf.py", "_view_wrapper"),
    ("django/views/generic/base.py", "view"),
    ("rest_framework/views.py", "dispatch"),
    ("stdlib:contextlib.py", "inner"),
    ("django/db/models/query.py", "get"),
    ("django/db/models/query.py", "__iter__"),
    ("django/db/models/sql/compiler.py", "execute_sql"),
    ("django/db/backends/utils.py", "_execute"),
    ("kombu/connection.py", "ensure_connection"),
    ("celery/app/task.py", "apply_async"),
    ("django/core/cache/backends/redis.py", "get"),
    ("django/db/models/base.py", "save"),
    ("django/db/models/base.py", "save_base"),
    ("rest_framework/serializers.py", "is_valid"),
    ("rest_framework/serializers.py", "save"),
    ("django/core/signing.py", "loads"),
    ("stdlib:json/decoder.py", "decode"),
    ("stdlib:decimal.py", "__new__"),
    ("stdlib:http/client.py", "getresponse"),
    ("stdlib:socket.py", "create_connection"),
    ("django/template/base.py", "render"),
    ("django/utils/functional.py", "__get__"),
    ("django/forms/forms.py", "full_clean"),
]

# Source of "in-app" frames: real code of one installed module per app module (frames of the same
# app module come from the same file, as they would in a real app).
_APP_BORROW = [
    "django/contrib/auth/__init__.py",
    "django/contrib/sessions/backends/base.py",
    "django/core/paginator.py",
    "django/http/request.py",
    "django/core/validators.py",
    "rest_framework/generics.py",
    "rest_framework/mixins.py",
    "rest_framework/fields.py",
    "celery/result.py",
    "django/db/transaction.py",
    "django/middleware/csrf.py",
    "django/utils/text.py",
    "django/core/mail/message.py",
    "django/urls/resolvers.py",
    "django/contrib/auth/hashers.py",
    "rest_framework/request.py",
]

# 10 issues: exception type, value template, the innermost frames (module, function, source index).
ISSUES = [
    ("TypeError", "unsupported operand type(s) for +: 'float' and 'NoneType'",
     [("shop.checkout.pricing", "apply_shipping"), ("shop.checkout.pricing", "add_shipping_fee")], None),
    ("KeyError", "'{sku}'", [("shop.inventory.stock", "reserve_items"), ("shop.inventory.stock", "lookup_stock")], None),
    ("ValueError", "invalid literal for int() with base 10: '{order}'",
     [("shop.api.serializers", "validate_quantity"), ("shop.api.serializers", "parse_quantity")], None),
    ("AttributeError", "'NoneType' object has no attribute 'country_code'",
     [("shop.checkout.tax", "compute_vat"), ("shop.checkout.tax", "rate_for_address")], None),
    ("ZeroDivisionError", "division by zero",
     [("shop.promotions.discounts", "apply_coupon"), ("shop.promotions.discounts", "split_discount")], None),
    ("DoesNotExist", "Customer matching query does not exist.",
     [("shop.accounts.customers", "load_customer")], ("django/db/models/query.py", "get", "django.db.models.query")),
    ("IntegrityError", 'duplicate key value violates unique constraint "orders_order_number_key"',
     [("shop.orders.models", "assign_number"), ("shop.orders.models", "save")],
     ("django/db/backends/utils.py", "_execute", "django.db.backends.utils")),
    ("ConnectionError", "Error 111 connecting to cache:6379. Connection refused.",
     [("shop.cache.session", "load_cart")], ("django/core/cache/backends/redis.py", "get", "django.core.cache.backends.redis")),
    ("TimeoutError", "timed out",
     [("shop.payments.gateway", "charge"), ("shop.payments.gateway", "post_to_psp")],
     ("stdlib:http/client.py", "getresponse", "http.client")),
    ("JSONDecodeError", "Expecting value: line 1 column 1 (char 0)",
     [("shop.payments.webhooks", "parse_callback")], ("stdlib:json/decoder.py", "decode", "json.decoder")),
]  # fmt: skip

_COMMON_LIB = [  # outermost first, like Sentry's frame order
    ("django/core/handlers/exception.py", "inner", "django.core.handlers.exception"),
    ("django/core/handlers/base.py", "_get_response", "django.core.handlers.base"),
    ("django/views/decorators/csrf.py", "_view_wrapper", "django.views.decorators.csrf"),
    ("django/views/generic/base.py", "view", "django.views.generic.base"),
    ("rest_framework/views.py", "dispatch", "rest_framework.views"),
]
_COMMON_APP = [
    ("shop.api.views", "post"),
    ("shop.checkout.service", "place_order"),
    ("stdlib:contextlib.py", "inner", "contextlib"),
    ("shop.checkout.service", "_place_order_locked"),
    ("shop.checkout.service", "build_order"),
    ("shop.checkout.cart", "totals"),
    ("shop.checkout.cart", "line_totals"),
    ("shop.checkout.cart", "price_lines"),
]

_BREADCRUMB_SQL = [
    'SELECT "django_session"."session_data" FROM "django_session" WHERE "django_session"."session_key" = %s LIMIT 21',
    'SELECT "auth_user"."id", "auth_user"."username", "auth_user"."email" FROM "auth_user" WHERE "auth_user"."id" = %s LIMIT 21',
    'SELECT "shop_cart"."id", "shop_cart"."currency" FROM "shop_cart" WHERE "shop_cart"."customer_id" = %s LIMIT 21',
    'SELECT "shop_cartline"."sku", "shop_cartline"."quantity" FROM "shop_cartline" WHERE "shop_cartline"."cart_id" = %s',
    'SELECT "shop_product"."sku", "shop_product"."price" FROM "shop_product" WHERE "shop_product"."sku" IN (%s, %s, %s)',
    'UPDATE "shop_stock" SET "reserved" = ("shop_stock"."reserved" + %s) WHERE "shop_stock"."sku" = %s',
    'SELECT "shop_coupon"."code", "shop_coupon"."percent", "shop_coupon"."valid_until" FROM "shop_coupon" WHERE UPPER("shop_coupon"."code"::text) = UPPER(%s) LIMIT 21',
    'INSERT INTO "shop_order" ("number", "customer_id", "total", "currency", "status", "created_at") VALUES (%s, %s, %s, %s, %s, %s) RETURNING "shop_order"."id"',
]


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _resolve(rel: str) -> Path:
    if rel.startswith("stdlib:"):
        return _stdlib() / rel.removeprefix("stdlib:")
    return _site_packages() / rel


@cache
def _function_lines(rel: str, function: str) -> tuple[int, list[str]] | None:
    """(1-based line of a call inside `function`, all lines of the file), or None."""
    path = _resolve(rel)
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    lines = source.splitlines()
    candidates = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function
    ]
    if not candidates:
        return None
    node = max(candidates, key=lambda n: len(n.body))
    calls = [c.lineno for c in ast.walk(node) if isinstance(c, ast.Call) and c.lineno > node.lineno]
    line = sorted(calls)[len(calls) // 2] if calls else node.body[0].lineno
    return line, lines


@lru_cache(maxsize=1)
def _app_functions() -> dict[str, list[str]]:
    """App module -> its functions in a fixed order (each gets a different borrowed function)."""
    out: dict[str, list[str]] = {}
    for src in [
        *_COMMON_APP,
        *(f for issue in ISSUES for f in issue[2]),
        *(("shop.checkout.service", f"step_{n}") for n in range(15)),
    ]:
        if len(src) == 2 and src[1] not in out.setdefault(src[0], []):
            out[src[0]].append(src[1])
    return out


@cache
def _function_names(rel: str) -> list[str]:
    try:
        tree = ast.parse(_resolve(rel).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    return sorted({n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and len(n.body) >= 2})


def _context(rel: str, function: str, salt: int) -> tuple[int, list[str], str, list[str]]:
    found = _function_lines(rel, function)
    if found is None:  # package missing: plausible generated code instead of failing the benchmark
        rnd = random.Random(f"{rel}:{function}")
        names = ["order", "cart", "line", "price", "customer", "coupon", "stock", "amount", "currency"]
        gen = [
            f"    {rnd.choice(names)}_{i} = {rnd.choice(names)}.{rnd.choice(['get', 'compute', 'load'])}_{rnd.choice(names)}({rnd.choice(names)}, strict={bool(i % 2)})"
            for i in range(11)
        ]
        return 40 + salt, gen[:5], gen[5], gen[6:]
    line, lines = found
    pre = lines[max(0, line - 6) : line - 1]
    post = lines[line : line + 5]
    while len(pre) < 5:
        pre.insert(0, "")
    while len(post) < 5:
        post.append("")
    return line, pre, lines[line - 1], post


def _addr(rnd: random.Random) -> str:
    return f"0x7f{rnd.getrandbits(36):09x}0"


def _vars(kind: str, rnd: random.Random, ev: dict) -> dict:
    """Locals as sentry-sdk reprs them. Long-lived objects keep their address within one server
    process (they repeat across events); per-request objects get a new one per event."""
    order, sku, cust = ev["order"], ev["sku"], ev["customer"]
    stable = f"0x7f{zlib.crc32((kind + ev['server']).encode()) & 0xFFFFFFFFF:09x}0"
    common = {
        "request": f"<WSGIRequest: POST '/api/v2/orders/{order}/checkout/'>",
        "self": f"<{kind} object at {stable}>",
        "args": "()",
        "kwargs": f"{{'order_id': '{order}'}}",
    }
    if not kind.startswith("shop."):
        extra = {
            "response": "None",
            "callback": f"<function OrderCheckoutView.as_view.<locals>.view at {stable}>",
            "handler": f"<bound method OrderCheckoutView.post of <shop.api.views.OrderCheckoutView object at {ev['view_addr']}>>",
            "using": "'default'",
            "params": f"('{order}',)",
        }
        keys = rnd.sample(sorted(extra), 1)
        return {**common, **{k: extra[k] for k in keys}}
    app = {
        "line": f"<CartLine: {sku} x{ev['qty']} @ Decimal('{ev['price']}')>",
        "customer": f"<Customer: {cust}>",
        "total": f"Decimal('{ev['total']}')",
        "shipping": "None",
        "coupon": "'SPRING-24'",
        "currency": "'EUR'",
        "attempt": str(ev["qty"] % 3),
    }
    keys = rnd.sample(sorted(app), 2)
    return {
        "self": f"<{kind}.Service object at {ev['view_addr']}>",
        "request": common["request"],
        "order": f"<Order: {order} ({ev['items']} items, {ev['total']} EUR)>",
        **{k: app[k] for k in keys},
    }


def _frame(src: tuple, rnd: random.Random, ev: dict, index: int) -> dict:
    if len(src) == 3:  # library frame
        rel, function, module = src
        line, pre, ctx, post = _context(rel, function, index)
        if rel.startswith("stdlib:"):
            abs_path = f"/usr/local/lib/python3.11/{rel.removeprefix('stdlib:')}"
            filename = rel.removeprefix("stdlib:")
        else:
            abs_path, filename = f"{SITE}/{rel}", rel
        in_app = False
        kind = module
    else:  # app frame, source borrowed from a real function
        module, function = src
        rel = _APP_BORROW[hash_str(module) % len(_APP_BORROW)]
        names = _function_names(rel) or [function]
        position = _app_functions()[module].index(function)
        line, pre, ctx, post = _context(rel, names[(hash_str(module) + position) % len(names)], index)
        filename = module.replace(".", "/") + ".py"
        abs_path = f"{APP_ROOT}/{filename}"
        in_app = True
        kind = module
    return {
        "filename": filename,
        "abs_path": abs_path,
        "function": function,
        "module": module,
        "lineno": line,
        "pre_context": pre,
        "context_line": ctx,
        "post_context": post,
        "vars": _vars(kind, rnd, ev),
        "in_app": in_app,
    }


def hash_str(text: str) -> int:
    return zlib.crc32(text.encode())


@lru_cache(maxsize=1)
def _modules() -> dict[str, str]:
    from importlib import metadata

    mods = {}
    for dist in metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower()
        if name and not name.startswith(("lighttrace", "playwright", "hypothesis", "mypy")):
            mods[name] = dist.version
    return dict(sorted(mods.items())[:30])


def _breadcrumbs(rnd: random.Random, ev: dict, now: datetime) -> list[dict]:
    crumbs = []
    t = now - timedelta(milliseconds=400)
    for i in range(20):
        t += timedelta(microseconds=rnd.randint(800, 25000))
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        kind = i % 5
        if kind in (0, 2, 3):
            crumbs.append({"category": "query", "message": _BREADCRUMB_SQL[(i + ev["issue"]) % len(_BREADCRUMB_SQL)],
                           "data": {"db.params": [ev["order"]]}, "timestamp": ts, "type": "default"})  # fmt: skip
        elif kind == 1:
            crumbs.append({"type": "http", "category": "httplib",
                           "data": {"url": f"https://inventory.internal/v1/stock/{ev['sku']}", "method": "GET",
                                    "status_code": 200, "reason": "OK"},
                           "timestamp": ts})  # fmt: skip
        else:
            crumbs.append({"category": "shop.checkout", "message": f"pricing cart {ev['customer']}: {ev['items']} lines",
                           "level": "info", "timestamp": ts, "type": "log"})  # fmt: skip
    return crumbs


def user_number(seq: int, users: int) -> int:
    """The user of event `seq` out of a fixed set of `users`: a permutation in every block of `users`
    consecutive events, so events 0..n-1 have exactly min(n, users) distinct users."""
    return (seq * 7919) % users  # 7919 is prime: a permutation for any users not a multiple of it


def build_event(
    issue: int, seq: int, public_key: str, seed: int = 0, users: int = 0
) -> tuple[str, dict, dict]:
    """(event_id, envelope header, event) of event number `seq` of `issue` (0..9). With `users`, the
    user comes from a fixed set of that many ids (user_number) instead of a random one."""
    rnd = random.Random(seed * 1_000_003 + seq)
    exc_type, value, inner, lib_tail = ISSUES[issue]
    now = datetime.now(UTC) - timedelta(seconds=rnd.random())
    event_id = uuid.UUID(int=rnd.getrandbits(128), version=4).hex
    trace_id, span_id = uuid.UUID(int=rnd.getrandbits(128)).hex, f"{rnd.getrandbits(64):016x}"
    cust = f"cus_{rnd.randint(1000, 9999)}"
    if users:  # after the draw: the random sequence, so every field not naming the user, stays the same
        cust = f"cus_u{user_number(seq, users):05d}"
    ev = {
        "issue": issue,
        "order": f"ord_{rnd.randint(100000, 999999)}",
        "sku": f"SKU-{rnd.randint(1000, 9999)}",
        "customer": cust,
        "items": rnd.randint(1, 9),
        "qty": rnd.randint(1, 5),
        "price": f"{rnd.randint(100, 9999) / 100:.2f}",
        "total": f"{rnd.randint(1000, 99999) / 100:.2f}",
        "server": f"web-{rnd.randint(1, 8)}",
        "view_addr": _addr(rnd),
    }
    sources = list(_COMMON_LIB) + list(_COMMON_APP) + list(inner)
    if lib_tail:
        sources.append(lib_tail)
    while len(sources) < 15:  # pad with app helpers so every event has 15 frames
        sources.insert(len(_COMMON_LIB) + 2, ("shop.checkout.service", f"step_{len(sources)}"))
    sources = sources[:15]
    frames = [_frame(src, rnd, ev, i) for i, src in enumerate(sources)]
    ts = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    event = {
        "level": "error",
        "exception": {"values": [{
            "mechanism": {"type": "django", "handled": False},
            "module": None if exc_type in ("TypeError", "KeyError", "ValueError", "AttributeError", "ZeroDivisionError", "TimeoutError") else "shop.errors",
            "type": exc_type,
            "value": value.format(sku=ev["sku"], order=ev["order"]),
            "stacktrace": {"frames": frames},
        }]},
        "event_id": event_id,
        "timestamp": ts,
        "contexts": {
            "trace": {"trace_id": trace_id, "span_id": span_id, "parent_span_id": None, "op": "http.server",
                      "origin": "auto.http.django", "status": "internal_error"},
            "runtime": {"name": "CPython", "version": "3.11.7", "build": "3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]"},
            "order": {"id": ev["order"], "items": ev["items"], "total": float(ev["total"]), "currency": "EUR"},
        },
        "user": {"id": cust, "email": f"jane.doe+{cust}@example.com", "username": f"jane.doe+{cust}", "ip_address": f"10.0.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"},
        "transaction": "/api/v2/orders/{order_id}/checkout/",
        "transaction_info": {"source": "route"},
        "request": {
            "url": f"https://shop.example.com/api/v2/orders/{ev['order']}/checkout/",
            "query_string": "",
            "method": "POST",
            "env": {"SERVER_NAME": "web-7", "SERVER_PORT": "8000"},
            "headers": {"Host": "shop.example.com", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                        "Accept": "application/json", "Accept-Language": "de-DE,de;q=0.9,en;q=0.8", "Content-Type": "application/json",
                        "Content-Length": str(120 + ev["items"]), "X-Request-Id": uuid.UUID(int=rnd.getrandbits(128)).hex,
                        "X-Forwarded-For": f"203.0.113.{rnd.randint(1, 254)}", "X-Forwarded-Proto": "https", "Origin": "https://shop.example.com"},
            "data": {"coupon": "SPRING-24", "items": [{"sku": ev["sku"], "qty": ev["qty"]}], "notes": ""},
        },
        "tags": {"customer.plan": rnd.choice(["free", "team", "enterprise"]), "region": rnd.choice(["eu-west-1", "eu-central-1", "us-east-1"]),
                 "checkout.step": "payment", "feature.new_pricing": rnd.choice(["on", "off"]), "shop.locale": "de_DE"},
        "extra": {"cart_snapshot": {"skus": [ev["sku"], "B-2207", "C-0042"], "coupon": "SPRING-24"},
                  "sys.argv": ["/srv/shop/.venv/bin/gunicorn", "shop.wsgi:application", "--workers", "4"]},
        "breadcrumbs": {"values": _breadcrumbs(rnd, ev, now)},
        "modules": _modules(),
        "release": "shop@2.14.3",
        "environment": "production",
        "server_name": ev["server"],
        "dist": "build-215",
        "sdk": {"name": "sentry.python.django", "version": "2.75.0", "packages": [{"name": "pypi:sentry-sdk", "version": "2.75.0"}],
                "integrations": ["argv", "atexit", "celery", "dedupe", "django", "excepthook", "logging", "modules", "redis", "stdlib", "threading"]},
        "platform": "python",
    }  # fmt: skip
    header = {
        "event_id": event_id,
        "sent_at": (now + timedelta(milliseconds=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "trace": {
            "trace_id": trace_id,
            "environment": "production",
            "release": "shop@2.14.3",
            "public_key": public_key,
        },
    }
    return event_id, header, event


def envelope_bytes(header: dict, event: dict) -> tuple[bytes, int]:
    """(envelope framed like sentry-sdk 2.75, size of the event JSON)."""
    payload = orjson.dumps(event)
    item = orjson.dumps({"type": "event", "content_type": "application/json", "length": len(payload)})
    return orjson.dumps(header) + b"\n" + item + b"\n" + payload + b"\n", len(payload)


def build_body(args: tuple) -> tuple[bytes, int, int]:
    """(gzipped envelope, event JSON bytes, envelope bytes) of event number seq. args: (seq, public_key,
    seed[, users]); with users > 0 every event is of issue 0 (the same error), its user from that set."""
    seq, public_key, seed, *rest = args
    users = rest[0] if rest else 0
    _, header, event = build_event(0 if users else seq % len(ISSUES), seq, public_key, seed, users)
    raw, event_size = envelope_bytes(header, event)
    return gzip.compress(raw, compresslevel=9), event_size, len(raw)


def _pool_worker_signals() -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def write_pool(
    path: Path, count: int, public_key: str, seed: int = 1, processes: int | None = None, users: int = 0
) -> dict:
    """Write `count` gzipped envelopes to `path` (u32 length + body each); return size statistics.
    users > 0: the `identical` pool, one error throughout, users from a fixed set (build_body)."""
    import multiprocessing

    if users and users % 7919 == 0:
        raise ValueError("users must not be a multiple of 7919 (see user_number)")
    jobs = [(i, public_key, seed, users) for i in range(count)]
    for issue in range(len(ISSUES)):  # parse the borrowed sources once, before forking
        build_body((issue, public_key, seed))
    processes = processes or max(1, min(2, os.cpu_count() or 1))
    json_total = gz_total = env_total = 0
    with open(path, "wb") as out:
        if processes > 1:
            with multiprocessing.get_context("fork").Pool(
                processes, initializer=_pool_worker_signals
            ) as pool:
                results = pool.imap(build_body, jobs, chunksize=64)
                for body, event_size, env_size in results:
                    out.write(struct.pack("<I", len(body)) + body)
                    json_total, gz_total, env_total = (
                        json_total + event_size,
                        gz_total + len(body),
                        env_total + env_size,
                    )
        else:
            for job in jobs:
                body, event_size, env_size = build_body(job)
                out.write(struct.pack("<I", len(body)) + body)
                json_total, gz_total, env_total = (
                    json_total + event_size,
                    gz_total + len(body),
                    env_total + env_size,
                )
    return {
        "count": count,
        "mean_event_json_bytes": json_total / count,
        "mean_envelope_bytes": env_total / count,
        "mean_gzip_bytes": gz_total / count,
    }


def read_pool(path: Path, start: int, count: int) -> list[bytes]:
    bodies = []
    with open(path, "rb") as f:
        index = 0
        while len(bodies) < count:
            head = f.read(4)
            if len(head) < 4:
                break
            (size,) = struct.unpack("<I", head)
            if index < start:
                f.seek(size, 1)
            else:
                bodies.append(f.read(size))
            index += 1
    return bodies


def http_headers(public_key: str) -> dict[str, str]:
    """The HTTP headers sentry-sdk 2.75 sends (from the fixture's capture)."""
    meta = orjson.loads((FIXTURE.with_suffix(".json")).read_bytes())
    headers = dict(meta["headers"])
    headers.pop("Host", None)
    headers.pop("Content-Length", None)
    headers["X-Sentry-Auth"] = f"Sentry sentry_key={public_key}, sentry_version=7, sentry_client={SDK}"
    return headers


if __name__ == "__main__":  # size check: python bench/payload.py
    sizes = [build_body((i, "0" * 32, 1)) for i in range(50)]
    json_b, env_b, gz_b = (sum(s[k] if k else len(s[0]) for s in sizes) / len(sizes) for k in (1, 2, 0))
    print(f"event JSON {json_b:.0f} B, envelope {env_b:.0f} B, gzip-9 {gz_b:.0f} B")
    _, _, e = build_event(0, 0, "0" * 32, 1)
    print(
        len(e["exception"]["values"][0]["stacktrace"]["frames"]),
        "frames,",
        len(e["breadcrumbs"]["values"]),
        "crumbs",
    )
    linecache.clearcache()
    sys.exit(0)
