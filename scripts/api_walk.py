#!/usr/bin/env python3
"""Walks every row of the HTTP contract (README "API") against a running service,
creating its own tickets, and prints one PASS/FAIL line per case; exits 1 on any failure.

Usage: scripts/api_test_cases.sh BASE_URL [TTL_SECONDS]
  BASE_URL     e.g. http://127.0.0.1:8080
  TTL_SECONDS  the server's RESERVATION_TTL_SECONDS (default: $RESERVATION_TTL_SECONDS, else 60).
               With a TTL of 5 s or less the expiry cases run too (they wait TTL + 1 s).
The server must run with the default reservation.max_hold_seconds (900) and
max_tickets_per_hold (10), and require_hold_token on (the default), as ci-api-test.sh runs it.
Needs python3 (3.11, standard library only).
"""
# The walk is a table (WALK, then EXPIRY): rows run in order, and a Case row is one PASS/FAIL
# line. To add a case, add a row: Case(name, method, path, body=..., headers={...},
# status=..., ticket=... or hold=... or error=..., checks=(...)). In a path, a header value,
# a body value or a name, $created is the id in the response saved as `created`
# (save="created"), $created.field another field of it and $created.hold.hold_token a field
# of a field; a body value that is nothing but one placeholder keeps the value's JSON type
# ("$a" sends the id as a number). A row that checks earlier responses says use="name"
# instead of sending a request. Acting on a hold needs its token, the Hold-Token header:
# headers=reservation_token("held") sends $held.hold.hold_token (the "hold" of a
# reservation's 201), headers=hold_token("pair") sends $pair.hold_token (a hold's 201).
import http.client
import json
import os
import random
import re
import string
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from typing import Any, Callable, NamedTuple

TIMEOUT_SECONDS = 15  # every request is bounded, so a hung server fails instead of stalling
MISSING_ID = 9223372036854775807  # the largest id: well-formed, never handed out in a walk
TICKET_KEYS = {"id", "event_name", "seat", "reservation_status", "reservation_created_at",
               "reservation_expires_at", "reservation_confirmed_at"}
TIMESTAMPS = ("reservation_created_at", "reservation_expires_at", "reservation_confirmed_at")
# Which timestamps each status carries: every other one must be null.
STATUS_TIMESTAMPS = {
    None: (),
    "TENTATIVE": ("reservation_created_at", "reservation_expires_at"),
    "EXPIRED": ("reservation_created_at", "reservation_expires_at"),
    "CONFIRMED": TIMESTAMPS,
}
ANY = "any"  # Case(ticket=ANY): a ticket whose status is not checked
MISSING_HOLD = "00000000-0000-4000-8000-000000000000"  # a well-formed hold id, never handed out
HOLD_KEYS = {"hold_id", "created_at", "expires_at", "expires_in_seconds", "tickets"}  # + hold_token in its 201
RESERVATION_HOLD_KEYS = {"hold_id", "hold_token", "expires_at", "expires_in_seconds"}  # a reservation's "hold"
_UNSET = object()


# --- requests and responses ---------------------------------------------------------------
@dataclass
class Response:
    status: int = 0  # 0: no response at all (then `error` says why)
    headers: Any = None
    raw: bytes = b""
    error: str = ""

    @cached_property
    def body(self):
        return json.loads(self.raw)

    def header(self, name):
        return (self.headers.get_all(name) or [""])[-1] if self.headers else ""


def send(base, method, path, body=None, headers=None):
    """One request on its own connection; a body that is not str/bytes is sent as JSON."""
    head = dict(headers or {})
    if body is not None:
        head.setdefault("Content-Type", "application/json")
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode()
    connection_class = http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(base.netloc, timeout=TIMEOUT_SECONDS)
    try:
        try:
            connection.request(method, base.path.rstrip("/") + path, body=body, headers=head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # a server refusing a large body may answer and close before reading it all
        answer = connection.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    except (OSError, http.client.HTTPException) as err:
        return Response(error=f"{type(err).__name__}: {err}")
    finally:
        connection.close()


class Values:
    """What $name, $name.field and $name.field.field in a path, header, body or case name stand for."""

    def __init__(self, walk):
        self.walk = walk

    def raw(self, key):
        """The value itself (a number stays a number); None when it could not be had."""
        if key == "missing":
            return MISSING_ID
        if key == "missing_hold":
            return MISSING_HOLD
        if key == "event":
            return self.walk.event
        name, *path = key.split(".")
        return self.walk.value(name, *(path or ["id"]))

    def __getitem__(self, key):
        value = self.raw(key)
        # An id that could not be had must not turn the path into another route.
        return "missing-ticket" if value is None else str(value)


class Placeholders(string.Template):
    idpattern = r"[a-z][a-z0-9_]*(?:\.[a-z_]+)*"


# --- checks: each one raises AssertionError with a readable reason, or returns false --------
class Check(NamedTuple):
    label: str
    test: Callable[[Any, "Walk"], Any]  # (the response, the walk)


def ts(value):
    """Parses an RFC 3339 timestamp in UTC; anything else is an error."""
    assert isinstance(value, str), f"timestamp {value!r} is not a string"
    assert value.endswith("Z") or value.endswith("+00:00"), f"timestamp {value!r} is not in UTC"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AssertionError(f"timestamp {value!r} is not RFC 3339") from None
    assert "T" in value and parsed.utcoffset() == timedelta(0), f"timestamp {value!r} is not RFC 3339 UTC"
    return parsed


def is_ticket(t, status=ANY):
    """A ticket with all seven keys, consistent types and the timestamps its status carries."""
    assert isinstance(t, dict), "body is not a JSON object"
    missing, extra = TICKET_KEYS - set(t), set(t) - TICKET_KEYS
    assert not missing and not extra, f"ticket keys: missing {sorted(missing)}, unexpected {sorted(extra)}"
    assert type(t["id"]) is int and t["id"] > 0, f"id {t['id']!r} is not a positive integer"
    assert isinstance(t["event_name"], str), "event_name is not a string"
    assert t["seat"] is None or isinstance(t["seat"], str), "seat is neither a string nor null"
    assert t["reservation_status"] in STATUS_TIMESTAMPS, f"unknown reservation_status {t['reservation_status']!r}"
    if status != ANY:
        assert t["reservation_status"] == status, f"reservation_status {t['reservation_status']!r}, expected {status!r}"
    for key in TIMESTAMPS:
        if key in STATUS_TIMESTAMPS[t["reservation_status"]]:
            ts(t[key])
        else:
            assert t[key] is None, f"{key} is {t[key]!r} on a {t['reservation_status']} ticket, expected null"
    return True


def exact_keys(value, keys, what):
    assert isinstance(value, dict), f"{what} is not a JSON object"
    missing, extra = keys - set(value), set(value) - keys
    assert not missing and not extra, f"{what} keys: missing {sorted(missing)}, unexpected {sorted(extra)}"


def is_hold_id(value):
    assert isinstance(value, str), f"hold_id {value!r} is not a string"
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise AssertionError(f"hold_id {value!r} is not a UUID") from None
    assert str(parsed) == value, f"hold_id {value!r} is not a UUID in its hyphenated lower-case form"


def is_token(value):
    # 128 bits of URL-safe base64 take 22 characters.
    assert isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{22,}", value), \
        f"hold_token {value!r} is not URL-safe text of at least 128 bits"


def seconds_left(value, created, expires, status):
    """expires_in_seconds: a whole number of seconds, 0 once the hold is over."""
    assert type(value) is int, f"expires_in_seconds {value!r} is not an integer"
    lifetime = -(-(expires - created) // timedelta(seconds=1))  # rounded up
    assert 0 <= value <= lifetime, f"expires_in_seconds {value} is outside 0..{lifetime}"
    if status == "EXPIRED":
        assert value == 0, f"expires_in_seconds {value} on an expired hold, expected 0"


def is_reservation(t):
    """A reservation's 201: a TENTATIVE ticket plus "hold", a hold of that one ticket."""
    assert isinstance(t, dict) and isinstance(t.get("hold"), dict), 'no "hold" object in the body'
    hold = t["hold"]
    exact_keys(hold, RESERVATION_HOLD_KEYS, '"hold"')
    is_hold_id(hold["hold_id"])
    is_token(hold["hold_token"])
    is_ticket({k: v for k, v in t.items() if k != "hold"}, "TENTATIVE")
    assert ts(hold["expires_at"]) == ts(t["reservation_expires_at"]), \
        f"hold.expires_at {hold['expires_at']} is not the ticket's {t['reservation_expires_at']}"
    seconds_left(hold["expires_in_seconds"], ts(t["reservation_created_at"]), ts(hold["expires_at"]), "TENTATIVE")
    return True


def is_hold(b, status=ANY, issued=False):
    """A hold: its keys (hold_token only in the 201 that created it), its tickets in id
    order, each with `status` and the hold's created_at and expires_at (null once released)."""
    exact_keys(b, HOLD_KEYS | ({"hold_token"} if issued else set()), "hold")
    is_hold_id(b["hold_id"])
    if issued:
        is_token(b["hold_token"])
    tickets = b["tickets"]
    assert isinstance(tickets, list) and tickets, "tickets is not a non-empty list"
    for t in tickets:
        is_ticket(t, status)
    ids = [t["id"] for t in tickets]
    assert ids == sorted(set(ids)), f"ticket ids {ids} are not ascending and distinct"
    if status is None:  # released: the tickets no longer carry the hold
        assert b["created_at"] is None and b["expires_at"] is None, \
            f"created_at {b['created_at']!r}, expires_at {b['expires_at']!r} of a released hold, expected null"
        assert b["expires_in_seconds"] in (None, 0), f"expires_in_seconds {b['expires_in_seconds']!r} of a released hold"
        return True
    created, expires = ts(b["created_at"]), ts(b["expires_at"])
    assert created < expires, f"created_at {b['created_at']} is not before expires_at {b['expires_at']}"
    for t in tickets:
        assert (ts(t["reservation_created_at"]), ts(t["reservation_expires_at"])) == (created, expires), \
            f"ticket {t['id']} is held {t['reservation_created_at']}..{t['reservation_expires_at']}, " \
            f"not the hold's {b['created_at']}..{b['expires_at']}"
    if status != "CONFIRMED":
        seconds_left(b["expires_in_seconds"], created, expires, status)
    if status == "CONFIRMED":
        sold_at = {ts(t["reservation_confirmed_at"]) for t in tickets}
        assert len(sold_at) == 1, f"{len(sold_at)} different confirmed_at values in one hold"
    return True


def ticket(status, issued=False):
    if issued:
        return Check("reservation(b)", lambda r, w: is_reservation(r.body))
    return Check(f"ticket(b, {status!r})", lambda r, w: is_ticket(r.body, status))


def hold(status, issued=False):
    return Check(f"hold(b, {status!r})", lambda r, w: is_hold(r.body, status, issued))


def envelope(code):
    """The error envelope: exactly error_code, message and details (an object)."""
    def test(r, w):
        e = r.body
        assert isinstance(e, dict), "body is not a JSON object"
        assert set(e) == {"error_code", "message", "details"}, \
            f"envelope keys {sorted(e)}, expected error_code, message, details"
        assert e["error_code"] == code, f"error_code {e['error_code']!r}, expected {code!r}"
        assert isinstance(e["message"], str) and e["message"].strip(), "message is not a non-empty string"
        assert isinstance(e["details"], dict), f"details {e['details']!r} is not an object"
        return True
    return Check(f"error(b, {code!r})", test)


def has(**expected):
    """The body's fields have these values."""
    def test(r, w):
        b = r.body
        assert isinstance(b, dict), "body is not a JSON object"
        for key, value in expected.items():
            assert b.get(key) == value, f"{key} is {b.get(key)!r}, expected {value!r}"
        return True
    return Check(f"has({expected})", test)


def same_as(name, *keys):
    """The body (or these fields of it) is what the response saved as `name` said."""
    def test(r, w):
        saved = w.saved[name].body
        for key in keys:
            assert r.body[key] == saved[key], f"{key} is {r.body[key]!r}, expected {saved[key]!r} as in {name!r}"
        assert keys or r.body == saved, f"body differs from the response saved as {name!r}: {w.saved[name].raw[:300]!r}"
        return True
    return Check(f"same_as({name!r}, {keys})", test)


def held_for_ttl():
    """expires_at - created_at is exactly the TTL the server was started with (a ticket or a hold)."""
    def test(r, w):
        b = r.body
        prefix = "" if "hold_id" in b else "reservation_"  # a hold's JSON, or a ticket's
        held = ts(b[prefix + "expires_at"]) - ts(b[prefix + "created_at"])
        assert held == timedelta(seconds=w.ttl), \
            f"hold lasts {held.total_seconds()} s, expected {w.ttl} s (is TTL_SECONDS the server's TTL?)"
        return True
    return Check("held_for_ttl(b)", test)


def names(name):
    """details mentions the field (as a key or in a value)."""
    def test(r, w):
        details = r.body.get("details")
        assert name in json.dumps(details), f"details {details!r} does not name {name!r}"
        return True
    return Check(f"names(b, {name!r})", test)


def page(*saved_names, next_after=_UNSET):
    """A listing page: exactly the tickets saved under these names, in this order."""
    def test(r, w):
        want = [w.value(n) for n in saved_names]
        got = [t["id"] for t in r.body["items"]]
        assert got == want, f"ids {got}, expected {want}"
        if next_after is not _UNSET:
            want_next = None if next_after is None else w.value(next_after)
            got_next = r.body["next_after_id"]
            assert got_next == want_next, f"next_after_id {got_next!r}, expected {want_next!r}"
        return True
    return Check(f"page({saved_names})", test)


def has_detail_field(name):
    return Check(f"details.field == {name!r}", lambda r, w: r.body["details"]["field"] == name)


def location_of_itself(r, w):
    ticket_id = r.body.get("id")
    assert ticket_id, "no id in the body"
    location = r.header("Location")
    if location != f"/api/tickets/{ticket_id}" and not re.fullmatch(rf".*://.*/api/tickets/{ticket_id}", location):
        raise AssertionError(f"Location '{location}', expected /api/tickets/{ticket_id}")
    return True


def location_of_hold(r, w):
    hold_id = r.body.get("hold_id")
    assert hold_id, "no hold_id in the body"
    location = r.header("Location")
    if location != f"/api/holds/{hold_id}" and not re.fullmatch(rf".*://.*/api/holds/{hold_id}", location):
        raise AssertionError(f"Location '{location}', expected /api/holds/{hold_id}")
    return True


def holds_tickets(*saved_names):
    """The hold covers exactly the tickets saved under these names, in this order."""
    def test(r, w):
        want = [w.value(n) for n in saved_names]
        got = [t["id"] for t in r.body["tickets"]]
        assert got == want, f"hold of tickets {got}, expected {want} ({', '.join(saved_names)})"
        return True
    return Check(f"holds_tickets{saved_names}", test)


def detail(key, expected):
    """details[key] is `expected`, or expected(walk) when it is a function of the walk."""
    def test(r, w):
        want = expected(w) if callable(expected) else expected
        got = r.body["details"].get(key)
        assert got == want, f"details.{key} is {got!r}, expected {want!r}"
        return True
    return Check(f"details.{key}", test)


def unavailable(**codes):
    """409 TICKETS_UNAVAILABLE names exactly these tickets (saved names) with these codes."""
    def want(w):
        return sorted(({"ticket_id": w.value(name), "error_code": code} for name, code in codes.items()),
                      key=lambda t: t["ticket_id"] or 0)
    def test(r, w):
        got = r.body["details"].get("tickets")
        assert isinstance(got, list), f"details.tickets {got!r} is not a list"
        assert sorted(got, key=lambda t: t.get("ticket_id") or 0) == want(w), \
            f"details.tickets is {got!r}, expected {want(w)!r}"
        return True
    return Check(f"details.tickets {codes}", test)


def reveals_no_hold(hold_ids=True):
    """No hold token the walk has been given so far (nor, with hold_ids, a hold id) is in the body."""
    def test(r, w):
        text = r.raw.decode(errors="replace")
        assert w.tokens, "no hold token issued yet to look for"
        assert not any(token in text for token in w.tokens), "the body shows a hold token"
        if hold_ids:
            assert not any(hold_id in text for hold_id in w.hold_ids), "the body shows a hold id"
        return True
    return Check("no hold token" + (" or hold id" if hold_ids else "") + " in the body", test)


def race_summary(responses):
    """'count status what' per kind of response, what being the error_code or the status."""
    kinds = {}
    for r in responses:
        try:
            what = r.body.get("error_code") or r.body.get("reservation_status") or "?"
        except Exception:
            what = "not-json"
        kind = f"{r.status or 0:03} {what}"
        kinds[kind] = kinds.get(kind, 0) + 1
    return ",".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))


def race_is(summary):
    def test(responses, w):
        got = race_summary(responses)
        assert got == summary, f"got {got} (count, status, code)"
        return True
    return Check(f"race {summary}", test)


def one_confirmed_at(responses, w):
    try:
        count = len({r.body.get("reservation_confirmed_at") for r in responses})
    except Exception:
        count = "?"
    assert count == 1, f"{count} different confirmed_at values"
    return True


# --- rows ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One PASS/FAIL line: a request (or a saved response, `use`) and what it must answer."""
    name: str
    method: str = "GET"
    path: str = ""
    body: Any = None  # str/bytes sent as is, anything else as JSON; None: no body
    headers: dict = field(default_factory=dict)
    status: int | None = None
    ticket: Any = _UNSET  # a ticket with this reservation_status (None, "TENTATIVE", ..., ANY)
    hold: Any = _UNSET  # a hold whose tickets all have this reservation_status
    issued: bool = False  # with ticket= or hold=: the 201 that placed the hold, with its token
    error: str | None = None  # the error envelope with this error_code
    checks: tuple = ()
    json: bool = True  # Content-Type must be application/json (not checked on a race)
    save: str | None = None
    use: str | None = None
    required: bool = False  # no answer at all: stop the walk, nothing else can pass


@dataclass(frozen=True)
class Send:
    """A request that sets up a case; its response is saved, not checked."""
    method: str
    path: str
    body: Any = None
    headers: dict = field(default_factory=dict)
    save: str | None = None


@dataclass(frozen=True)
class Race:
    """`count` simultaneous requests; the list of responses is saved as `save`, the first
    201 among them as `won`."""
    save: str
    count: int
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    won: str | None = None


@dataclass(frozen=True)
class Wait:
    """Sleeps until the holds of a TTL have lapsed."""
    what: str


@dataclass(frozen=True)
class Pause:
    """Sleeps this long (a hold's clock must have moved on)."""
    seconds: float
    what: str


def reservation_token(name):
    """The Hold-Token of the hold a reservation saved as `name` placed."""
    return {"Hold-Token": f"${name}.hold.hold_token"}


def hold_token(name):
    """The Hold-Token of the hold saved as `name` (the 201 of POST /api/holds)."""
    return {"Hold-Token": f"${name}.hold_token"}


def hold_of(*names, save=None):
    """POST /api/holds of the tickets saved under these names."""
    return Send("POST", "/api/holds", ids(*names), save=save)


def new(name, event="API walk", seat="B-7"):
    """A ticket for the walk, saved as `name` ($name is its id)."""
    body = {"event_name": event} if seat is None else {"event_name": event, "seat": seat}
    return Send("POST", "/api/tickets", body, save=name)


def invalid(what, body, name=None):
    return Case(f"POST /api/tickets {what}: 400 VALIDATION_ERROR" + (f" naming {name}" if name else ""),
                "POST", "/api/tickets", body, status=400, error="VALIDATION_ERROR",
                checks=(names(name),) if name else ())


def ids(*names):
    """A POST /api/holds body of the tickets saved under these names."""
    return {"ticket_ids": [f"${name}" for name in names]}


def invalid_hold(what, body, name=None):
    return Case(f"POST /api/holds {what}: 400 VALIDATION_ERROR" + (f" naming {name}" if name else ""),
                "POST", "/api/holds", body, status=400, error="VALIDATION_ERROR",
                checks=(names(name),) if name else ())


def best(event, quantity):
    """A best-available POST /api/holds body."""
    return {"event_name": event, "quantity": quantity}


def at(name, key, expected):
    """The body's timestamp `key` is the instant of field `expected` of the response saved as `name`
    (compared as instants, so that two spellings of one instant agree)."""
    return Check(f"{key} is {name}.{expected}", lambda r, w: ts(r.body[key]) == ts(w.value(name, expected)))


def lasts(low, high):
    """expires_at - created_at is between `low` and `high` seconds."""
    def test(r, w):
        held = (ts(r.body["expires_at"]) - ts(r.body["created_at"])).total_seconds()
        assert low <= held <= high, f"the hold lasts {held} s from its creation, expected {low}..{high} s"
        return True
    return Check(f"lasts {low}..{high} s", test)


def sized_body(size):
    return '{"event_name": "' + "N" * (size - 20) + '"}'


TICKET_ROUTES = (("GET", ""), ("POST", "/reservation"), ("POST", "/confirm"), ("DELETE", "/reservation"))
HOLD_ROUTES = (("GET", "", None), ("POST", "/confirm", None), ("DELETE", "", None),
               ("POST", "/extend", {"ttl_seconds": 60}))
MAX_HOLD_SECONDS = 900  # the server's reservation.max_hold_seconds: the default, as ci-api-test.sh runs it
WALK = [
    # --- health
    Case("GET /api/health answers 200 with status ok", "GET", "/api/health", status=200,
         checks=(has(status="ok"),), required=True),
    # --- create
    Case("POST /api/tickets creates a ticket: 201, Location, all seven keys, timestamps null",
         "POST", "/api/tickets", {"event_name": "Opening Night", "seat": "A-12"}, status=201, ticket=None,
         checks=(has(event_name="Opening Night", seat="A-12"), Check("Location", location_of_itself)),
         save="created"),
    Case("POST /api/tickets with seat null creates a ticket without a seat", "POST", "/api/tickets",
         {"event_name": "General admission", "seat": None}, status=201, ticket=None,
         checks=(has(seat=None, event_name="General admission"),)),
    Case("POST /api/tickets without seat creates a ticket without a seat", "POST", "/api/tickets",
         {"event_name": "General admission"}, status=201, ticket=None, checks=(has(seat=None),)),
    Case("POST /api/tickets accepts a 200-character event_name and a 50-character seat", "POST",
         "/api/tickets", {"event_name": "N" * 200, "seat": "S" * 50}, status=201, ticket=None,
         checks=(has(event_name="N" * 200, seat="S" * 50),)),
    Case("POST /api/tickets counts characters, not bytes (200 x 'é' is accepted)", "POST", "/api/tickets",
         {"event_name": "é" * 200}, status=201, ticket=None, checks=(has(event_name="é" * 200),)),
    # --- validation
    invalid("with a body that is not JSON", "this is not json"),
    invalid("with truncated JSON", '{"event_name": "Opening'),
    invalid("with an array body", '[{"event_name": "Opening Night"}]'),
    invalid("with a string body", '"Opening Night"'),
    invalid("with an empty body", ""),
    invalid("without event_name", {"seat": "A-1"}, "event_name"),
    invalid("with event_name null", {"event_name": None}, "event_name"),
    invalid("with a numeric event_name", {"event_name": 42}, "event_name"),
    invalid("with an empty event_name", {"event_name": ""}, "event_name"),
    invalid("with a blank event_name", {"event_name": "   "}, "event_name"),
    invalid("with a 201-character event_name", {"event_name": "N" * 201}, "event_name"),
    invalid("with a 51-character seat", {"event_name": "Opening Night", "seat": "S" * 51}, "seat"),
    invalid("with an empty seat", {"event_name": "Opening Night", "seat": ""}, "seat"),
    invalid("with a numeric seat", {"event_name": "Opening Night", "seat": 12}, "seat"),
    invalid("with an object seat", {"event_name": "Opening Night", "seat": {"row": "A"}}, "seat"),
    # Bodies: just under the 64 KiB limit reaches validation; over it is refused as too large.
    invalid("with a 60 000-byte body (under 64 KiB, so validated, not 413)", sized_body(60000), "event_name"),
    Case("POST /api/tickets with a 70 000-byte body: 413 PAYLOAD_TOO_LARGE", "POST", "/api/tickets",
         sized_body(70000), status=413, error="PAYLOAD_TOO_LARGE"),
    # --- read
    Case("GET /api/tickets/{id} answers 200 with the ticket as created", "GET", "/api/tickets/$created",
         status=200, ticket=None, checks=(same_as("created"),)),
    Case("GET /api/tickets/{id} of a missing id: 404 TICKET_NOT_FOUND", "GET", "/api/tickets/$missing",
         status=404, error="TICKET_NOT_FOUND"),
    # --- malformed ids on every ticket route
    *(Case(f"{method} /api/tickets/{bad}{suffix}: 400 INVALID_TICKET_ID", method, f"/api/tickets/{bad}{suffix}",
           status=400, error="INVALID_TICKET_ID")
      for bad in ("abc", "0", "-1", "1.5", "99999999999999999999") for method, suffix in TICKET_ROUTES),
    # --- reserve and confirm
    new("unheld"),
    Case("POST /api/tickets/{id}/confirm without a hold (and without a token): 409 NO_ACTIVE_RESERVATION",
         "POST", "/api/tickets/$unheld/confirm", status=409, error="NO_ACTIVE_RESERVATION"),
    Case("a refused confirm leaves the ticket unreserved", "GET", "/api/tickets/$unheld", status=200, ticket=None),
    # Back to back, so that even a 1 s TTL cannot lapse between the hold and the confirmation;
    # the responses are checked afterwards.
    new("held"),
    Send("POST", "/api/tickets/$held/reservation", save="reserved"),
    Send("POST", "/api/tickets/$held/reservation", save="reserved_again"),
    Send("GET", "/api/tickets/$held", save="read_held"),
    Send("POST", "/api/tickets/$held/confirm", headers=reservation_token("reserved"), save="confirmed"),
    Send("POST", "/api/tickets/$held/confirm", headers=reservation_token("reserved"), save="confirmed_again"),
    Send("POST", "/api/tickets/$held/reservation", save="reserved_confirmed"),
    Send("GET", "/api/tickets/$held", save="read_confirmed"),
    Case("POST /api/tickets/{id}/reservation: 201 TENTATIVE, expires_at = created_at + TTL, plus "
         '"hold": {hold_id, hold_token, expires_at, expires_in_seconds}', use="reserved",
         status=201, ticket="TENTATIVE", issued=True,
         checks=(has(event_name="API walk", seat="B-7"), held_for_ttl())),
    Case("reserve a held ticket: 409 RESERVATION_ALREADY_ACTIVE with details.expires_at of the hold",
         use="reserved_again", status=409, error="RESERVATION_ALREADY_ACTIVE",
         checks=(Check("details.expires_at is the hold's", lambda r, w: ts(r.body["details"]["expires_at"])
                      == ts(w.saved["reserved"].body["reservation_expires_at"])), reveals_no_hold())),
    Case("GET a held ticket shows the hold unchanged by the refused reservation, and no hold id or token",
         use="read_held", status=200, ticket="TENTATIVE",
         checks=(same_as("reserved", "reservation_created_at", "reservation_expires_at"), reveals_no_hold())),
    Case("POST /api/tickets/{id}/confirm with its Hold-Token: 200 CONFIRMED", use="confirmed", status=200,
         ticket="CONFIRMED", checks=(
             same_as("reserved", "reservation_created_at", "reservation_expires_at"),
             Check("created_at <= confirmed_at < expires_at", lambda r, w:
                   ts(w.saved["reserved"].body["reservation_created_at"])
                   <= ts(r.body["reservation_confirmed_at"]) < ts(r.body["reservation_expires_at"])),
             reveals_no_hold())),
    Case("confirm again with its token: 200 CONFIRMED with the same confirmed_at (idempotent)",
         use="confirmed_again", status=200, ticket="CONFIRMED", checks=(same_as("confirmed"),)),
    Case("reserve a confirmed ticket: 409 TICKET_ALREADY_CONFIRMED with details.confirmed_at",
         use="reserved_confirmed", status=409, error="TICKET_ALREADY_CONFIRMED",
         checks=(Check("details.confirmed_at is the sale's", lambda r, w: ts(r.body["details"]["confirmed_at"])
                      == ts(w.saved["confirmed"].body["reservation_confirmed_at"])),)),
    Case("GET a confirmed ticket shows the sale, and no hold id or token", use="read_confirmed", status=200,
         ticket="CONFIRMED", checks=(same_as("confirmed"), reveals_no_hold())),
    Case("POST /api/tickets/{id}/reservation of a missing id: 404 TICKET_NOT_FOUND", "POST",
         "/api/tickets/$missing/reservation", status=404, error="TICKET_NOT_FOUND"),
    Case("POST /api/tickets/{id}/confirm of a missing id: 404 TICKET_NOT_FOUND", "POST",
         "/api/tickets/$missing/confirm", status=404, error="TICKET_NOT_FOUND"),
    # --- the hold's token on the single-ticket routes: none 401, another hold's 403
    new("owned"),
    Send("POST", "/api/tickets/$owned/reservation", save="owned_hold"),
    new("other"),
    Send("POST", "/api/tickets/$other/reservation", save="other_hold"),
    Case("confirm a held ticket without Hold-Token: 401 HOLD_TOKEN_REQUIRED", "POST",
         "/api/tickets/$owned/confirm", status=401, error="HOLD_TOKEN_REQUIRED"),
    Case("confirm a held ticket with another hold's token: 403 HOLD_TOKEN_INVALID, the token not echoed",
         "POST", "/api/tickets/$owned/confirm", headers=reservation_token("other_hold"), status=403,
         error="HOLD_TOKEN_INVALID", checks=(reveals_no_hold(hold_ids=False),)),
    Case("confirm a held ticket with a token no hold has: 403 HOLD_TOKEN_INVALID", "POST",
         "/api/tickets/$owned/confirm", headers={"Hold-Token": "x" * 43}, status=403, error="HOLD_TOKEN_INVALID"),
    Case("release a held ticket without Hold-Token: 401 HOLD_TOKEN_REQUIRED", "DELETE",
         "/api/tickets/$owned/reservation", status=401, error="HOLD_TOKEN_REQUIRED"),
    Case("release a held ticket with another hold's token: 403 HOLD_TOKEN_INVALID", "DELETE",
         "/api/tickets/$owned/reservation", headers=reservation_token("other_hold"), status=403,
         error="HOLD_TOKEN_INVALID", checks=(reveals_no_hold(hold_ids=False),)),
    Case("the refused confirms and releases left the hold as it was", "GET", "/api/tickets/$owned",
         status=200, ticket="TENTATIVE", checks=(same_as("owned_hold", "reservation_created_at",
                                                         "reservation_expires_at"),)),
    Case("confirm it with its own token: 200 CONFIRMED", "POST", "/api/tickets/$owned/confirm",
         headers=reservation_token("owned_hold"), status=200, ticket="CONFIRMED", save="owned_sale"),
    Case("confirm the sold ticket again without Hold-Token: 401 HOLD_TOKEN_REQUIRED", "POST",
         "/api/tickets/$owned/confirm", status=401, error="HOLD_TOKEN_REQUIRED"),
    Case("confirm the sold ticket again with another hold's token: 403 HOLD_TOKEN_INVALID", "POST",
         "/api/tickets/$owned/confirm", headers=reservation_token("other_hold"), status=403,
         error="HOLD_TOKEN_INVALID"),
    Case("release the sold ticket without a token: 409 TICKET_ALREADY_CONFIRMED (a GET shows the sale)",
         "DELETE", "/api/tickets/$owned/reservation", status=409, error="TICKET_ALREADY_CONFIRMED"),
    Case("the sale is unchanged", "GET", "/api/tickets/$owned", status=200, ticket="CONFIRMED",
         checks=(same_as("owned_sale"),)),
    # --- races
    new("raced"),
    Race("reserve_race", 10, "POST", "/api/tickets/$raced/reservation", won="race_won"),
    Race("confirm_race", 10, "POST", "/api/tickets/$raced/confirm", headers=reservation_token("race_won")),
    Case("10 simultaneous reservations of one ticket: exactly one 201, nine 409 RESERVATION_ALREADY_ACTIVE",
         use="reserve_race", checks=(race_is("1 201 TENTATIVE,9 409 RESERVATION_ALREADY_ACTIVE"),)),
    Case("10 simultaneous confirmations of that hold with its token: all 200 CONFIRMED with one confirmed_at",
         use="confirm_race", checks=(race_is("10 200 CONFIRMED"), Check("one confirmed_at", one_confirmed_at))),
    # --- release
    new("released"),
    Send("POST", "/api/tickets/$released/reservation", save="released_hold"),
    Case("DELETE /api/tickets/{id}/reservation with its token: 200, reservable again (status null)", "DELETE",
         "/api/tickets/$released/reservation", headers=reservation_token("released_hold"), status=200,
         ticket=None, checks=(Check("the released ticket", lambda r, w: r.body["id"] == w.value("released")),)),
    Case("reserve a released ticket: 201 with a new hold", "POST", "/api/tickets/$released/reservation",
         status=201, ticket="TENTATIVE", issued=True, checks=(Check(
             "a new hold id and token", lambda r, w: r.body["hold"]["hold_id"] != w.value(
                 "released_hold", "hold", "hold_id") and r.body["hold"]["hold_token"] != w.value(
                 "released_hold", "hold", "hold_token")),)),
    new("never_reserved"),
    Case("DELETE the reservation of a never reserved ticket: 409 NO_ACTIVE_RESERVATION", "DELETE",
         "/api/tickets/$never_reserved/reservation", status=409, error="NO_ACTIVE_RESERVATION"),
    new("sold"),
    Send("POST", "/api/tickets/$sold/reservation", save="sold_hold"),
    Send("POST", "/api/tickets/$sold/confirm", headers=reservation_token("sold_hold")),
    Case("DELETE the reservation of a sold ticket with its token: 409 TICKET_ALREADY_CONFIRMED", "DELETE",
         "/api/tickets/$sold/reservation", headers=reservation_token("sold_hold"), status=409,
         error="TICKET_ALREADY_CONFIRMED",
         checks=(Check("details.confirmed_at", lambda r, w: ts(r.body["details"]["confirmed_at"])),)),
    Case("DELETE the reservation of an unknown ticket: 404 TICKET_NOT_FOUND", "DELETE",
         "/api/tickets/$missing/reservation", status=404, error="TICKET_NOT_FOUND"),
    # --- holds of several tickets: POST /api/holds {"ticket_ids": [...]}
    new("pair_a"),
    new("pair_b"),
    # Back to back, then checked: extended before even a 1 s TTL could lapse it.
    hold_of("pair_a", "pair_b", save="pair"),
    Send("GET", "/api/holds/$pair.hold_id", headers=hold_token("pair"), save="pair_read"),
    Send("POST", "/api/holds/$pair.hold_id/extend", {"ttl_seconds": 600}, headers=hold_token("pair"),
         save="pair_extended"),
    Case("POST /api/holds {ticket_ids}: 201, Location, hold_id and hold_token, both tickets TENTATIVE for the TTL",
         use="pair", status=201, hold="TENTATIVE", issued=True,
         checks=(Check("Location", location_of_hold), holds_tickets("pair_a", "pair_b"), held_for_ttl())),
    Case("GET /api/holds/{hold_id} with its token: 200, the same hold, without hold_token", use="pair_read",
         status=200, hold="TENTATIVE",
         checks=(same_as("pair", "hold_id", "created_at", "expires_at"), holds_tickets("pair_a", "pair_b"))),
    Case("POST /api/holds/{hold_id}/extend {ttl_seconds: 600}: 200, expires_at = now + 600 on every ticket",
         use="pair_extended", status=200, hold="TENTATIVE", checks=(
             same_as("pair", "hold_id", "created_at"), lasts(600, 605),
             Check("expires_in_seconds 599..600", lambda r, w: r.body["expires_in_seconds"] in (599, 600)))),
    Case("GET a ticket of the hold: TENTATIVE until the extended expiry, no hold id or token", "GET",
         "/api/tickets/$pair_a", status=200, ticket="TENTATIVE",
         checks=(at("pair_extended", "reservation_expires_at", "expires_at"), reveals_no_hold())),
    *(Case(f"{method} /api/holds/{{hold_id}}{suffix} without Hold-Token: 401 HOLD_TOKEN_REQUIRED", method,
           f"/api/holds/$pair.hold_id{suffix}", body, status=401, error="HOLD_TOKEN_REQUIRED")
      for method, suffix, body in HOLD_ROUTES),
    *(Case(f"{method} /api/holds/{{hold_id}}{suffix} with another hold's token: 403 HOLD_TOKEN_INVALID", method,
           f"/api/holds/$pair.hold_id{suffix}", body, headers=reservation_token("other_hold"), status=403,
           error="HOLD_TOKEN_INVALID", checks=(reveals_no_hold(hold_ids=False),))
      for method, suffix, body in HOLD_ROUTES),
    Case("the refused requests left the hold as it was", "GET", "/api/holds/$pair.hold_id",
         headers=hold_token("pair"), status=200, hold="TENTATIVE", checks=(same_as("pair_extended", "expires_at"),)),
    *(Case(f"{method} /api/holds/{{hold_id}}{suffix} of an unknown hold: 404 HOLD_NOT_FOUND", method,
           f"/api/holds/$missing_hold{suffix}", body, headers=hold_token("pair"), status=404, error="HOLD_NOT_FOUND")
      for method, suffix, body in HOLD_ROUTES),
    *(Case(f"{method} /api/holds/{bad}{suffix}: 400 INVALID_HOLD_ID", method, f"/api/holds/{bad}{suffix}", body,
           headers=hold_token("pair"), status=400, error="INVALID_HOLD_ID")
      for bad in ("abc", "42", MISSING_HOLD[:-1] + "g", MISSING_HOLD + "0")
      for method, suffix, body in HOLD_ROUTES),
    # --- extension: up to reservation.max_hold_seconds from the hold's creation
    *(Case(f"POST /api/holds/{{hold_id}}/extend {what}: 400 VALIDATION_ERROR", "POST",
           "/api/holds/$pair.hold_id/extend", body, headers=hold_token("pair"), status=400,
           error="VALIDATION_ERROR", checks=(names("ttl_seconds"),) if named else ())
      for what, body, named in (
          ("{ttl_seconds: 0}", {"ttl_seconds": 0}, True),
          ("{ttl_seconds: -5}", {"ttl_seconds": -5}, True),
          (f"{{ttl_seconds: {MAX_HOLD_SECONDS + 1}}} (above max_hold_seconds)", {"ttl_seconds": MAX_HOLD_SECONDS + 1},
           True),
          ('{ttl_seconds: "60"}', {"ttl_seconds": "60"}, True),
          ("{ttl_seconds: 1.5}", {"ttl_seconds": 1.5}, True),
          ("{}", {}, True),
          ("with a body that is not JSON", "sixty", False))),
    Pause(1, "the hold to age past its creation"),
    Case(f"extend by {MAX_HOLD_SECONDS} s a hold created seconds ago: 409 HOLD_EXTENSION_LIMIT, "
         "details.max_expires_at = created_at + max_hold_seconds", "POST", "/api/holds/$pair.hold_id/extend",
         {"ttl_seconds": MAX_HOLD_SECONDS}, headers=hold_token("pair"), status=409, error="HOLD_EXTENSION_LIMIT",
         checks=(Check("details.max_expires_at", lambda r, w: ts(r.body["details"]["max_expires_at"])
                       == ts(w.value("pair", "created_at")) + timedelta(seconds=MAX_HOLD_SECONDS)),)),
    Case("the refused extensions left the hold as it was", "GET", "/api/holds/$pair.hold_id",
         headers=hold_token("pair"), status=200, hold="TENTATIVE", checks=(same_as("pair_extended", "expires_at"),)),
    Case("extend by 60 s (earlier than before, within the cap): 200, expires_at = now + 60", "POST",
         "/api/holds/$pair.hold_id/extend", {"ttl_seconds": 60}, headers=hold_token("pair"), status=200,
         hold="TENTATIVE", checks=(same_as("pair", "created_at"), lasts(61, 90),
                                   Check("expires_in_seconds 59..60",
                                         lambda r, w: r.body["expires_in_seconds"] in (59, 60)))),
    # --- confirming a hold
    Case("POST /api/holds/{hold_id}/confirm with its token: 200, both tickets CONFIRMED with one confirmed_at",
         "POST", "/api/holds/$pair.hold_id/confirm", headers=hold_token("pair"), status=200, hold="CONFIRMED",
         save="pair_sold", checks=(same_as("pair", "hold_id", "created_at"), holds_tickets("pair_a", "pair_b"))),
    Case("confirm it again: 200, unchanged", "POST", "/api/holds/$pair.hold_id/confirm", headers=hold_token("pair"),
         status=200, hold="CONFIRMED", checks=(same_as("pair_sold", "hold_id", "created_at", "expires_at", "tickets"),)),
    Case("GET a ticket of the sold hold: CONFIRMED at the hold's confirmed_at, no hold id or token", "GET",
         "/api/tickets/$pair_b", status=200, ticket="CONFIRMED", checks=(Check(
             "the hold's confirmed_at", lambda r, w: r.body["reservation_confirmed_at"]
             == w.saved["pair_sold"].body["tickets"][1]["reservation_confirmed_at"]), reveals_no_hold())),
    Case("confirm one of its tickets on the single-ticket route with the hold's token: 200 CONFIRMED", "POST",
         "/api/tickets/$pair_a/confirm", headers=hold_token("pair"), status=200, ticket="CONFIRMED"),
    Case("confirm the sold hold with another hold's token: 403 HOLD_TOKEN_INVALID", "POST",
         "/api/holds/$pair.hold_id/confirm", headers=reservation_token("other_hold"), status=403,
         error="HOLD_TOKEN_INVALID"),
    Case("extend a sold hold: 409 TICKET_ALREADY_CONFIRMED", "POST", "/api/holds/$pair.hold_id/extend",
         {"ttl_seconds": 60}, headers=hold_token("pair"), status=409, error="TICKET_ALREADY_CONFIRMED"),
    Case("release a sold hold: 409 TICKET_ALREADY_CONFIRMED", "DELETE", "/api/holds/$pair.hold_id",
         headers=hold_token("pair"), status=409, error="TICKET_ALREADY_CONFIRMED"),
    Case("reserve a ticket of a sold hold: 409 TICKET_ALREADY_CONFIRMED", "POST",
         "/api/tickets/$pair_a/reservation", status=409, error="TICKET_ALREADY_CONFIRMED"),
    # --- releasing a hold
    new("rel_a"),
    new("rel_b"),
    hold_of("rel_a", "rel_b", save="rel"),
    Case("DELETE /api/holds/{hold_id} with its token: 200, both tickets reservable (status null), lifetime null",
         "DELETE", "/api/holds/$rel.hold_id", headers=hold_token("rel"), status=200, hold=None,
         checks=(same_as("rel", "hold_id"), holds_tickets("rel_a", "rel_b"))),
    *(Case(f"{method} /api/holds/{{hold_id}}{suffix} of a released hold: 404 HOLD_NOT_FOUND", method,
           f"/api/holds/$rel.hold_id{suffix}", body, headers=hold_token("rel"), status=404, error="HOLD_NOT_FOUND")
      for method, suffix, body in HOLD_ROUTES),
    Case("a ticket of the released hold reads unreserved", "GET", "/api/tickets/$rel_b", status=200, ticket=None),
    Case("hold the released tickets again: 201, a new hold", "POST", "/api/holds", ids("rel_a", "rel_b"),
         status=201, hold="TENTATIVE", issued=True, checks=(
             holds_tickets("rel_a", "rel_b"),
             Check("a new hold id", lambda r, w: r.body["hold_id"] != w.value("rel", "hold_id")))),
    # --- all or nothing, and the refusals of POST /api/holds
    new("free"),
    new("taken"),
    new("gone"),
    Send("POST", "/api/tickets/$taken/reservation", save="taken_hold"),
    Case("a reservation is a hold of one ticket: POST /api/holds/{its hold_id}/extend with its token: 200",
         "POST", "/api/holds/$taken_hold.hold.hold_id/extend", {"ttl_seconds": 600},
         headers=reservation_token("taken_hold"), status=200, hold="TENTATIVE", checks=(holds_tickets("taken"),)),
    Case("GET /api/holds/{hold_id} of that reservation: 200, the one ticket", "GET",
         "/api/holds/$taken_hold.hold.hold_id", headers=reservation_token("taken_hold"), status=200,
         hold="TENTATIVE", checks=(holds_tickets("taken"),)),
    Send("POST", "/api/tickets/$gone/reservation", save="gone_hold"),
    Send("POST", "/api/tickets/$gone/confirm", headers=reservation_token("gone_hold")),
    Case("POST /api/holds of a free, a held and a sold ticket: 409 TICKETS_UNAVAILABLE naming the two others",
         "POST", "/api/holds", ids("free", "taken", "gone"), status=409, error="TICKETS_UNAVAILABLE",
         checks=(unavailable(taken="RESERVATION_ALREADY_ACTIVE", gone="TICKET_ALREADY_CONFIRMED"),)),
    Case("all or nothing: the free ticket was not held", "GET", "/api/tickets/$free", status=200, ticket=None),
    Case("POST /api/holds of a free and a missing ticket: 404 TICKET_NOT_FOUND, details.ticket_ids the missing one",
         "POST", "/api/holds", {"ticket_ids": ["$free", "$missing"]}, status=404, error="TICKET_NOT_FOUND",
         checks=(detail("ticket_ids", [MISSING_ID]),)),
    Case("all or nothing: the free ticket is still not held", "GET", "/api/tickets/$free", status=200, ticket=None),
    invalid_hold("with no ticket_ids", {"ticket_ids": []}, "ticket_ids"),
    invalid_hold("with a ticket twice", {"ticket_ids": ["$free", "$free"]}, "ticket_ids"),
    invalid_hold("with 11 tickets (max_tickets_per_hold is 10)", {"ticket_ids": list(range(1, 12))}, "ticket_ids"),
    invalid_hold("with a string id", {"ticket_ids": ["1"]}, "ticket_ids"),
    invalid_hold("with a fractional id", {"ticket_ids": [1.5]}, "ticket_ids"),
    invalid_hold("with ticket_ids not a list", {"ticket_ids": 1}, "ticket_ids"),
    invalid_hold("with both ticket_ids and event_name/quantity",
                 {"ticket_ids": ["$free"], "event_name": "API walk", "quantity": 1}),
    invalid_hold("with neither ticket_ids nor event_name/quantity", {}),
    invalid_hold("with a body that is not JSON", "not json"),
    invalid_hold("with event_name but no quantity", {"event_name": "API walk"}),
    invalid_hold("with quantity 0", best("API walk", 0), "quantity"),
    invalid_hold("with quantity 11 (max_tickets_per_hold is 10)", best("API walk", 11), "quantity"),
    invalid_hold('with quantity "2"', best("API walk", "2"), "quantity"),
    invalid_hold("with a blank event_name", best("   ", 1), "event_name"),
    Case("none of the refused requests held the free ticket", "GET", "/api/tickets/$free", status=200, ticket=None),
    # --- best available, on an event of the walk's own: R-1 sold, R-2 held, R-3.. free
    *(new(f"best{n}", event="$event best", seat=f"R-{n}") for n in range(1, 7)),
    Send("POST", "/api/tickets/$best1/reservation", save="best1_hold"),
    Send("POST", "/api/tickets/$best1/confirm", headers=reservation_token("best1_hold")),
    hold_of("best2", save="best2_hold"),
    Send("POST", "/api/holds/$best2_hold.hold_id/extend", {"ttl_seconds": 600}, headers=hold_token("best2_hold")),
    Case("POST /api/holds {event_name, quantity: 2} (best available): 201, the two lowest free tickets, "
         "past a sold and a held one", "POST", "/api/holds", best("$event best", 2), status=201, hold="TENTATIVE",
         issued=True, save="best_first",
         checks=(Check("Location", location_of_hold), holds_tickets("best3", "best4"), held_for_ttl())),
    Case("best available of 3 with 2 left: 409 TICKETS_UNAVAILABLE, details.available 2", "POST", "/api/holds",
         best("$event best", 3), status=409, error="TICKETS_UNAVAILABLE", checks=(detail("available", 2),)),
    Case("best available of the last 2: 201, the next two", "POST", "/api/holds", best("$event best", 2),
         status=201, hold="TENTATIVE", issued=True, checks=(holds_tickets("best5", "best6"),)),
    Case("best available of 1 with none left: 409 TICKETS_UNAVAILABLE, details.available 0", "POST",
         "/api/holds", best("$event best", 1), status=409, error="TICKETS_UNAVAILABLE",
         checks=(detail("available", 0),)),
    Case("release the first best-available hold: 200", "DELETE", "/api/holds/$best_first.hold_id",
         headers=hold_token("best_first"), status=200, hold=None),
    Case("best available of 2 again: 201, the released tickets", "POST", "/api/holds", best("$event best", 2),
         status=201, hold="TENTATIVE", issued=True, checks=(holds_tickets("best3", "best4"),)),
    Case("best available of an event without tickets: 409 TICKETS_UNAVAILABLE, details.available 0", "POST",
         "/api/holds", best("$event none", 1), status=409, error="TICKETS_UNAVAILABLE",
         checks=(detail("available", 0),)),
    # --- max_tickets_per_hold (10) tickets in one hold, both ways
    *(new(f"ten{n}", event="$event ten", seat=None) for n in range(1, 11)),
    Case("POST /api/holds of 10 tickets: 201, all ten", "POST", "/api/holds", ids(*(f"ten{n}" for n in range(1, 11))),
         status=201, hold="TENTATIVE", issued=True, save="ten_hold",
         checks=(holds_tickets(*(f"ten{n}" for n in range(1, 11))),)),
    Case("release it: 200, ten tickets reservable", "DELETE", "/api/holds/$ten_hold.hold_id",
         headers=hold_token("ten_hold"), status=200, hold=None),
    Case("best available of 10: 201, all ten in id order", "POST", "/api/holds", best("$event ten", 10),
         status=201, hold="TENTATIVE", issued=True, checks=(holds_tickets(*(f"ten{n}" for n in range(1, 11))),)),
    # --- listing and liveness
    Case("GET /api/health/live answers 200 with status ok", "GET", "/api/health/live", status=200,
         checks=(Check('b == {"status": "ok"}', lambda r, w: r.body == {"status": "ok"}),)),
    # Tickets of an event of this walk alone ($event), so that earlier walks' tickets do not count.
    new("listed1", event="$event", seat=None),
    new("listed2", event="$event", seat=None),
    new("listed3", event="$event", seat=None),
    Send("POST", "/api/tickets/$listed2/reservation"),
    Case("GET /api/tickets?event_name=...&limit=2: the first page and next_after_id", "GET",
         "/api/tickets?event_name=$event&limit=2", status=200, checks=(
             Check('set(b) == {"items", "next_after_id"}', lambda r, w: set(r.body) == {"items", "next_after_id"}),
             Check("every item is a ticket", lambda r, w: all(is_ticket(t) for t in r.body["items"])),
             page("listed1", "listed2", next_after="listed2"), reveals_no_hold())),
    Case("GET the next page: the last ticket, next_after_id null", "GET",
         "/api/tickets?event_name=$event&limit=2&after_id=$listed2", status=200,
         checks=(page("listed3", next_after=None),)),
    Case("GET /api/tickets?status=tentative&event_name=...: the held ticket only", "GET",
         "/api/tickets?status=tentative&event_name=$event", status=200, checks=(
             page("listed2"), reveals_no_hold(),
             Check("the item is TENTATIVE", lambda r, w: r.body["items"][0]["reservation_status"] == "TENTATIVE"))),
    Case("GET /api/tickets?status=available&event_name=...: the two others", "GET",
         "/api/tickets?status=available&event_name=$event", status=200,
         checks=(page("listed1", "listed3"),)),
    *(Case(f"GET /api/tickets?{query}: 400 VALIDATION_ERROR naming {name}", "GET", f"/api/tickets?{query}",
           status=400, error="VALIDATION_ERROR", checks=(has_detail_field(name),))
      for query, name in (("limit=0", "limit"), ("limit=501", "limit"), ("status=sold", "status"),
                          ("after_id=-1", "after_id"), ("colour=red", "colour"))),
    # --- routing
    *(Case(f"GET {path} (unknown route): 404 NOT_FOUND", "GET", path, status=404, error="NOT_FOUND")
      for path in ("/api/nope", "/nope", "/api/tickets/$created/refund")),
    *(Case(f"{method} {path} (known route, wrong method): 405 METHOD_NOT_ALLOWED", method, path,
           status=405, error="METHOD_NOT_ALLOWED")
      for method, path in (("DELETE", "/api/tickets"), ("PUT", "/api/tickets"), ("PUT", "/api/tickets/1/confirm"),
                           ("GET", "/api/tickets/1/reservation"), ("DELETE", "/api/tickets/1"),
                           ("POST", "/api/health"), ("POST", "/api/health/live"))),
]

# Run only with a TTL of 5 s or less. Single-ticket holds lapse together: one is then
# confirmed (written EXPIRED) and reserved anew, the other reserved anew from its lapsed
# TENTATIVE row; and holds of several tickets: one confirmed (both tickets written EXPIRED),
# one extended and released, one of best available whose tickets best available takes again.
EXPIRY = [
    new("lapsing"),
    Send("POST", "/api/tickets/$lapsing/reservation", save="lapsing_hold"),
    new("relapsing"),
    Send("POST", "/api/tickets/$relapsing/reservation", save="relapsing_hold"),
    new("lapsing_a"),
    new("lapsing_b"),
    hold_of("lapsing_a", "lapsing_b", save="lapsing_pair"),
    new("lapsing_c"),
    hold_of("lapsing_c", save="lapsing_one"),
    *(new(f"late{n}", event="$event late", seat=None) for n in (1, 2)),
    Send("POST", "/api/holds", best("$event late", 2), save="lapsing_best"),
    Wait("the holds to expire"),
    Case("GET /api/holds/{hold_id} of a lapsed hold: 200, both tickets EXPIRED, expires_in_seconds 0", "GET",
         "/api/holds/$lapsing_pair.hold_id", headers=hold_token("lapsing_pair"), status=200, hold="EXPIRED",
         checks=(same_as("lapsing_pair", "hold_id", "created_at", "expires_at"),)),
    Case("POST /api/holds/{hold_id}/confirm of a lapsed hold of 2 tickets: 409 RESERVATION_EXPIRED, "
         "details.expired_at its expiry", "POST", "/api/holds/$lapsing_pair.hold_id/confirm",
         headers=hold_token("lapsing_pair"), status=409, error="RESERVATION_EXPIRED",
         checks=(Check("details.expired_at", lambda r, w: ts(r.body["details"]["expired_at"])
                       == ts(w.value("lapsing_pair", "expires_at"))),)),
    *(Case(f"after the refused confirmation, ticket {name[-1]} of the hold reads EXPIRED with its timestamps", "GET",
           f"/api/tickets/${name}", status=200, ticket="EXPIRED",
           checks=(at("lapsing_pair", "reservation_created_at", "created_at"),
                   at("lapsing_pair", "reservation_expires_at", "expires_at")))
      for name in ("lapsing_a", "lapsing_b")),
    Case("the hold after the refused confirmation: both tickets EXPIRED", "GET", "/api/holds/$lapsing_pair.hold_id",
         headers=hold_token("lapsing_pair"), status=200, hold="EXPIRED"),
    Case("confirm the lapsed hold again: 409 RESERVATION_EXPIRED", "POST", "/api/holds/$lapsing_pair.hold_id/confirm",
         headers=hold_token("lapsing_pair"), status=409, error="RESERVATION_EXPIRED"),
    Case("extend a lapsed hold: 409 RESERVATION_EXPIRED", "POST", "/api/holds/$lapsing_one.hold_id/extend",
         {"ttl_seconds": 60}, headers=hold_token("lapsing_one"), status=409, error="RESERVATION_EXPIRED"),
    Case("release a lapsed hold: 409 NO_ACTIVE_RESERVATION", "DELETE", "/api/holds/$lapsing_one.hold_id",
         headers=hold_token("lapsing_one"), status=409, error="NO_ACTIVE_RESERVATION"),
    Case("hold the tickets of the expired hold again: 201, a new hold", "POST", "/api/holds",
         ids("lapsing_a", "lapsing_b"), status=201, hold="TENTATIVE", issued=True,
         checks=(holds_tickets("lapsing_a", "lapsing_b"),)),
    Case("best available takes the tickets of a lapsed hold: 201, the same two", "POST", "/api/holds",
         best("$event late", 2), status=201, hold="TENTATIVE", issued=True, checks=(
             holds_tickets("late1", "late2"),
             Check("a new hold id", lambda r, w: r.body["hold_id"] != w.value("lapsing_best", "hold_id")))),
    Case("GET a ticket whose hold has lapsed shows EXPIRED with the hold's timestamps", "GET",
         "/api/tickets/$lapsing", status=200, ticket="EXPIRED",
         checks=(same_as("lapsing_hold", "reservation_created_at", "reservation_expires_at"),)),
    Case("confirm a lapsed hold with its token: 409 RESERVATION_EXPIRED", "POST", "/api/tickets/$lapsing/confirm",
         headers=reservation_token("lapsing_hold"), status=409, error="RESERVATION_EXPIRED"),
    Case("GET after the refused confirmation still shows EXPIRED", "GET", "/api/tickets/$lapsing",
         status=200, ticket="EXPIRED", checks=(same_as("lapsing_hold", "reservation_expires_at"),)),
    Case("confirm an EXPIRED ticket again: 409 RESERVATION_EXPIRED", "POST", "/api/tickets/$lapsing/confirm",
         headers=reservation_token("lapsing_hold"), status=409, error="RESERVATION_EXPIRED"),
    Case("reserve an EXPIRED ticket: 201 with a new hold", "POST", "/api/tickets/$lapsing/reservation",
         status=201, ticket="TENTATIVE", issued=True, save="renewed", checks=(held_for_ttl(), Check(
             "the new hold starts after the old one ended", lambda r, w: ts(r.body["reservation_created_at"])
             >= ts(w.saved["lapsing_hold"].body["reservation_expires_at"])))),
    Case("confirm the new hold with the old hold's token: 403 HOLD_TOKEN_INVALID", "POST",
         "/api/tickets/$lapsing/confirm", headers=reservation_token("lapsing_hold"), status=403,
         error="HOLD_TOKEN_INVALID"),
    Case("confirm the new hold with its token: 200 CONFIRMED", "POST", "/api/tickets/$lapsing/confirm",
         headers=reservation_token("renewed"), status=200, ticket="CONFIRMED",
         checks=(same_as("renewed", "reservation_expires_at"),)),
    Case("release a lapsed hold: 409 NO_ACTIVE_RESERVATION", "DELETE", "/api/tickets/$relapsing/reservation",
         headers=reservation_token("relapsing_hold"), status=409, error="NO_ACTIVE_RESERVATION"),
    Case("reserve a TENTATIVE ticket past its time: 201 with a new hold", "POST",
         "/api/tickets/$relapsing/reservation", status=201, ticket="TENTATIVE", issued=True, checks=(held_for_ttl(), Check(
             "the new hold starts after the old one ended", lambda r, w: ts(r.body["reservation_created_at"])
             >= ts(w.saved["relapsing_hold"].body["reservation_expires_at"])))),
]


# --- the walk -----------------------------------------------------------------------------
class Walk:
    def __init__(self, base_url, ttl):
        self.base = urllib.parse.urlsplit(base_url)
        self.ttl = ttl
        self.event = f"api-walk-{os.getpid()}-{random.randrange(32768)}"
        self.saved = {}
        self.values = Values(self)
        self.passed = self.failed = 0
        self.tokens, self.hold_ids = set(), set()  # every hold the walk was given

    def value(self, name, *path):
        """A field (of a field ...) of the response saved as `name`; None when there is none."""
        try:
            value = self.saved[name].body
            for key in path or ("id",):
                value = value.get(key)
            return value
        except (KeyError, ValueError, AttributeError):
            return None

    def fill(self, text):
        return Placeholders(text).substitute(self.values) if isinstance(text, str) else text

    def fill_body(self, body, inside=False):
        if isinstance(body, dict):
            return {k: self.fill_body(v, True) for k, v in body.items()}
        if isinstance(body, list):
            return [self.fill_body(v, True) for v in body]
        whole = inside and isinstance(body, str) and re.fullmatch(rf"\$({Placeholders.idpattern})", body)
        return self.values.raw(whole[1]) if whole else self.fill(body)

    def send(self, row):
        return send(self.base, row.method, self.fill(row.path), self.fill_body(row.body),
                    {k: self.fill(v) for k, v in row.headers.items()})

    def remember(self, responses):
        """Notes the holds these responses placed, so that checks can look for their secrets."""
        for r in responses if isinstance(responses, list) else [responses]:
            try:
                body = r.body
            except ValueError:
                continue
            for placed in (body, body.get("hold")) if isinstance(body, dict) else ():
                if isinstance(placed, dict) and isinstance(placed.get("hold_token"), str):
                    self.tokens.add(placed["hold_token"])
                    self.hold_ids.add(str(placed.get("hold_id")))

    def run(self, rows):
        """Runs the rows in order; False when a required case got no answer at all."""
        for row in rows:
            if isinstance(row, Case):
                if not self.case(row) and row.required:
                    return False
            elif isinstance(row, Send):
                response = self.send(row)
                self.remember(response)
                if row.save:
                    self.saved[row.save] = response
            elif isinstance(row, Race):
                responses = self.race(row)
                self.remember(responses)
                self.saved[row.save] = responses
                if row.won:
                    self.saved[row.won] = next((r for r in responses if r.status == 201), Response())
            elif isinstance(row, Wait):
                print(f"... waiting {self.ttl + 1} s for {row.what}")
                time.sleep(self.ttl + 1)
            elif isinstance(row, Pause):
                print(f"... waiting {row.seconds:g} s for {row.what}")
                time.sleep(row.seconds)
        return True

    def race(self, row):
        start = threading.Barrier(row.count)
        path, headers = self.fill(row.path), {k: self.fill(v) for k, v in row.headers.items()}

        def one(_):
            start.wait()
            return send(self.base, row.method, path, headers=headers)

        with ThreadPoolExecutor(row.count) as pool:
            return list(pool.map(one, range(row.count)))

    def case(self, row):
        r = self.saved[row.use] if row.use else self.send(row)
        self.remember(r)
        if row.save:
            self.saved[row.save] = r
        reasons = []
        checks = list(row.checks)
        if row.ticket is not _UNSET:
            checks.insert(0, ticket(row.ticket, row.issued))
        if row.hold is not _UNSET:
            checks.insert(0, hold(row.hold, row.issued))
        if row.error:
            checks.insert(0, envelope(row.error))
        answered = isinstance(r, list) or r.status != 0
        if not answered:
            reasons.append(f"no response: {r.error}")
        else:
            if row.status is not None and r.status != row.status:
                reasons.append(f"status {r.status}, expected {row.status}")
            if row.json and not isinstance(r, list) and not r.header("Content-Type").startswith("application/json"):
                reasons.append(f"content-type '{r.header('Content-Type')}', expected application/json")
            reasons += self.check(r, checks)
        name = self.fill(row.name)
        if not reasons:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed += 1
            shown = "" if isinstance(r, list) else r.raw[:300].decode(errors="replace").replace("\n", " ")
            print(f"FAIL {name}: {'; '.join(reasons)}" + (f" (body: {shown})" if shown else ""))
        return answered

    def check(self, r, checks):
        if not checks:
            return []
        if not isinstance(r, list):
            try:
                r.body
            except ValueError as err:
                return [f"body is not JSON ({err})"]
        reasons = []
        for check in checks:
            try:
                if not check.test(r, self):
                    reasons.append(f"not true: {check.label}")
            except AssertionError as err:
                reasons.append(str(err))
            except Exception as err:  # a missing key, a wrong type: say which check broke
                reasons.append(f"{check.label}: {type(err).__name__}: {err}")
        return reasons


def main(argv):
    if not 1 <= len(argv) <= 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ttl = argv[1] if len(argv) == 2 else os.environ.get("RESERVATION_TTL_SECONDS", "60")
    if not re.fullmatch(r"[1-9][0-9]*", ttl):
        print(f"api_test_cases.sh: TTL_SECONDS must be a positive integer, got '{ttl}'", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)
    base_url = argv[0].rstrip("/")
    walk = Walk(base_url, int(ttl))
    print(f"API walk against {base_url} (reservation TTL {ttl} s)")
    if not walk.run(WALK):
        print(f"The service does not answer at {base_url}; nothing else checked.", file=sys.stderr)
        print(f"{walk.passed} passed, {walk.failed} failed")
        return 1
    skipped = ""
    if walk.ttl <= 5:
        walk.run(EXPIRY)
    else:
        skipped = ", expiry cases skipped"
        print(f"SKIP expiry cases (TTL {ttl} s; pass a TTL <= 5 to run them)")
    print(f"{walk.passed} passed, {walk.failed} failed{skipped}")
    return 1 if walk.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
