#!/usr/bin/env python3
"""Walks every row of the HTTP contract (README "API") against a running service,
creating its own tickets, and prints one PASS/FAIL line per case; exits 1 on any failure.

Usage: scripts/api_test_cases.sh BASE_URL [TTL_SECONDS]
  BASE_URL     e.g. http://127.0.0.1:8080
  TTL_SECONDS  the server's RESERVATION_TTL_SECONDS (default: $RESERVATION_TTL_SECONDS, else 60).
               With a TTL of 5 s or less the expiry cases run too (they wait TTL + 1 s).
Needs python3 (3.11, standard library only).
"""
# The walk is a table (WALK, then EXPIRY): rows run in order, and a Case row is one PASS/FAIL
# line. To add a case, add a row: Case(name, method, path, body=..., headers={...},
# status=..., ticket=... or error=..., checks=(...)). In a path, a header value or a name,
# $created is the id in the response saved as `created` (save="created"), $created.field
# another field of it; a row that checks earlier responses says use="name" instead of
# sending a request.
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
    """What $name and $name.field in a path, header or case name stand for."""

    def __init__(self, walk):
        self.walk = walk

    def __getitem__(self, key):
        if key == "missing":
            return str(MISSING_ID)
        if key == "event":
            return self.walk.event
        name, _, key_field = key.partition(".")
        value = self.walk.value(name, key_field or "id")
        # An id that could not be had must not turn the path into another route.
        return "missing-ticket" if value is None else str(value)


class Placeholders(string.Template):
    idpattern = r"[a-z][a-z0-9_]*(?:\.[a-z_]+)?"


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


def ticket(status):
    return Check(f"ticket(b, {status!r})", lambda r, w: is_ticket(r.body, status))


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
    """expires_at - created_at is exactly the TTL the server was started with."""
    def test(r, w):
        held = ts(r.body["reservation_expires_at"]) - ts(r.body["reservation_created_at"])
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
    """`count` simultaneous requests; the list of responses is saved as `save`."""
    save: str
    count: int
    method: str
    path: str


@dataclass(frozen=True)
class Wait:
    """Sleeps until the holds of a TTL have lapsed."""
    what: str


def new(name, event="API walk", seat="B-7"):
    """A ticket for the walk, saved as `name` ($name is its id)."""
    body = {"event_name": event} if seat is None else {"event_name": event, "seat": seat}
    return Send("POST", "/api/tickets", body, save=name)


def invalid(what, body, name=None):
    return Case(f"POST /api/tickets {what}: 400 VALIDATION_ERROR" + (f" naming {name}" if name else ""),
                "POST", "/api/tickets", body, status=400, error="VALIDATION_ERROR",
                checks=(names(name),) if name else ())


def sized_body(size):
    return '{"event_name": "' + "N" * (size - 20) + '"}'


TICKET_ROUTES = (("GET", ""), ("POST", "/reservation"), ("POST", "/confirm"), ("DELETE", "/reservation"))
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
    Case("POST /api/tickets/{id}/confirm without a hold: 409 NO_ACTIVE_RESERVATION", "POST",
         "/api/tickets/$unheld/confirm", status=409, error="NO_ACTIVE_RESERVATION"),
    Case("a refused confirm leaves the ticket unreserved", "GET", "/api/tickets/$unheld", status=200, ticket=None),
    # Back to back, so that even a 1 s TTL cannot lapse between the hold and the confirmation;
    # the responses are checked afterwards.
    new("held"),
    Send("POST", "/api/tickets/$held/reservation", save="reserved"),
    Send("POST", "/api/tickets/$held/reservation", save="reserved_again"),
    Send("GET", "/api/tickets/$held", save="read_held"),
    Send("POST", "/api/tickets/$held/confirm", save="confirmed"),
    Send("POST", "/api/tickets/$held/confirm", save="confirmed_again"),
    Send("POST", "/api/tickets/$held/reservation", save="reserved_confirmed"),
    Send("GET", "/api/tickets/$held", save="read_confirmed"),
    Case("POST /api/tickets/{id}/reservation: 201 TENTATIVE, expires_at = created_at + TTL", use="reserved",
         status=201, ticket="TENTATIVE", checks=(has(event_name="API walk", seat="B-7"), held_for_ttl())),
    Case("reserve a held ticket: 409 RESERVATION_ALREADY_ACTIVE with details.expires_at of the hold",
         use="reserved_again", status=409, error="RESERVATION_ALREADY_ACTIVE",
         checks=(Check("details.expires_at is the hold's", lambda r, w: ts(r.body["details"]["expires_at"])
                      == ts(w.saved["reserved"].body["reservation_expires_at"])),)),
    Case("GET a held ticket shows the hold unchanged by the refused reservation", use="read_held",
         status=200, ticket="TENTATIVE", checks=(same_as("reserved"),)),
    Case("POST /api/tickets/{id}/confirm of a held ticket: 200 CONFIRMED", use="confirmed", status=200,
         ticket="CONFIRMED", checks=(
             same_as("reserved", "reservation_created_at", "reservation_expires_at"),
             Check("created_at <= confirmed_at < expires_at", lambda r, w:
                   ts(w.saved["reserved"].body["reservation_created_at"])
                   <= ts(r.body["reservation_confirmed_at"]) < ts(r.body["reservation_expires_at"])))),
    Case("confirm again: 200 CONFIRMED with the same confirmed_at (idempotent)", use="confirmed_again",
         status=200, ticket="CONFIRMED", checks=(same_as("confirmed"),)),
    Case("reserve a confirmed ticket: 409 TICKET_ALREADY_CONFIRMED with details.confirmed_at",
         use="reserved_confirmed", status=409, error="TICKET_ALREADY_CONFIRMED",
         checks=(Check("details.confirmed_at is the sale's", lambda r, w: ts(r.body["details"]["confirmed_at"])
                      == ts(w.saved["confirmed"].body["reservation_confirmed_at"])),)),
    Case("GET a confirmed ticket shows the sale", use="read_confirmed", status=200, ticket="CONFIRMED",
         checks=(same_as("confirmed"),)),
    Case("POST /api/tickets/{id}/reservation of a missing id: 404 TICKET_NOT_FOUND", "POST",
         "/api/tickets/$missing/reservation", status=404, error="TICKET_NOT_FOUND"),
    Case("POST /api/tickets/{id}/confirm of a missing id: 404 TICKET_NOT_FOUND", "POST",
         "/api/tickets/$missing/confirm", status=404, error="TICKET_NOT_FOUND"),
    # --- races
    new("raced"),
    Race("reserve_race", 10, "POST", "/api/tickets/$raced/reservation"),
    Race("confirm_race", 10, "POST", "/api/tickets/$raced/confirm"),
    Case("10 simultaneous reservations of one ticket: exactly one 201, nine 409 RESERVATION_ALREADY_ACTIVE",
         use="reserve_race", checks=(race_is("1 201 TENTATIVE,9 409 RESERVATION_ALREADY_ACTIVE"),)),
    Case("10 simultaneous confirmations of that hold: all 200 CONFIRMED with one confirmed_at",
         use="confirm_race", checks=(race_is("10 200 CONFIRMED"), Check("one confirmed_at", one_confirmed_at))),
    # --- release
    new("released"),
    Send("POST", "/api/tickets/$released/reservation"),
    Case("DELETE /api/tickets/{id}/reservation on a hold: 200, reservable again (status null)", "DELETE",
         "/api/tickets/$released/reservation", status=200, ticket=None,
         checks=(Check("the released ticket", lambda r, w: r.body["id"] == w.value("released")),)),
    Case("reserve a released ticket: 201 with a new hold", "POST", "/api/tickets/$released/reservation",
         status=201, ticket="TENTATIVE"),
    new("never_reserved"),
    Case("DELETE the reservation of a never reserved ticket: 409 NO_ACTIVE_RESERVATION", "DELETE",
         "/api/tickets/$never_reserved/reservation", status=409, error="NO_ACTIVE_RESERVATION"),
    new("sold"),
    Send("POST", "/api/tickets/$sold/reservation"),
    Send("POST", "/api/tickets/$sold/confirm"),
    Case("DELETE the reservation of a sold ticket: 409 TICKET_ALREADY_CONFIRMED", "DELETE",
         "/api/tickets/$sold/reservation", status=409, error="TICKET_ALREADY_CONFIRMED",
         checks=(Check("details.confirmed_at", lambda r, w: ts(r.body["details"]["confirmed_at"])),)),
    Case("DELETE the reservation of an unknown ticket: 404 TICKET_NOT_FOUND", "DELETE",
         "/api/tickets/$missing/reservation", status=404, error="TICKET_NOT_FOUND"),
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
             page("listed1", "listed2", next_after="listed2"))),
    Case("GET the next page: the last ticket, next_after_id null", "GET",
         "/api/tickets?event_name=$event&limit=2&after_id=$listed2", status=200,
         checks=(page("listed3", next_after=None),)),
    Case("GET /api/tickets?status=tentative&event_name=...: the held ticket only", "GET",
         "/api/tickets?status=tentative&event_name=$event", status=200, checks=(
             page("listed2"),
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

# Run only with a TTL of 5 s or less. Two holds lapse together: one is then confirmed
# (written EXPIRED) and reserved anew, the other reserved anew from its lapsed TENTATIVE row.
EXPIRY = [
    new("lapsing"),
    Send("POST", "/api/tickets/$lapsing/reservation", save="lapsing_hold"),
    new("relapsing"),
    Send("POST", "/api/tickets/$relapsing/reservation", save="relapsing_hold"),
    Wait("two holds to expire"),
    Case("GET a ticket whose hold has lapsed shows EXPIRED with the hold's timestamps", "GET",
         "/api/tickets/$lapsing", status=200, ticket="EXPIRED",
         checks=(same_as("lapsing_hold", "reservation_created_at", "reservation_expires_at"),)),
    Case("confirm a lapsed hold: 409 RESERVATION_EXPIRED", "POST", "/api/tickets/$lapsing/confirm",
         status=409, error="RESERVATION_EXPIRED"),
    Case("GET after the refused confirmation still shows EXPIRED", "GET", "/api/tickets/$lapsing",
         status=200, ticket="EXPIRED", checks=(same_as("lapsing_hold", "reservation_expires_at"),)),
    Case("confirm an EXPIRED ticket again: 409 RESERVATION_EXPIRED", "POST", "/api/tickets/$lapsing/confirm",
         status=409, error="RESERVATION_EXPIRED"),
    Case("reserve an EXPIRED ticket: 201 with a new hold", "POST", "/api/tickets/$lapsing/reservation",
         status=201, ticket="TENTATIVE", save="renewed", checks=(held_for_ttl(), Check(
             "the new hold starts after the old one ended", lambda r, w: ts(r.body["reservation_created_at"])
             >= ts(w.saved["lapsing_hold"].body["reservation_expires_at"])))),
    Case("confirm the new hold: 200 CONFIRMED", "POST", "/api/tickets/$lapsing/confirm", status=200,
         ticket="CONFIRMED", checks=(same_as("renewed", "reservation_expires_at"),)),
    Case("release a lapsed hold: 409 NO_ACTIVE_RESERVATION", "DELETE", "/api/tickets/$relapsing/reservation",
         status=409, error="NO_ACTIVE_RESERVATION"),
    Case("reserve a TENTATIVE ticket past its time: 201 with a new hold", "POST",
         "/api/tickets/$relapsing/reservation", status=201, ticket="TENTATIVE", checks=(held_for_ttl(), Check(
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

    def value(self, name, key="id"):
        """A field of the response saved as `name`; None when there is none."""
        try:
            return self.saved[name].body.get(key)
        except (KeyError, ValueError, AttributeError):
            return None

    def fill(self, text):
        return Placeholders(text).substitute(self.values) if isinstance(text, str) else text

    def fill_body(self, body):
        if isinstance(body, dict):
            return {k: self.fill_body(v) for k, v in body.items()}
        return self.fill(body)

    def send(self, row):
        return send(self.base, row.method, self.fill(row.path), self.fill_body(row.body),
                    {k: self.fill(v) for k, v in row.headers.items()})

    def run(self, rows):
        """Runs the rows in order; False when a required case got no answer at all."""
        for row in rows:
            if isinstance(row, Case):
                if not self.case(row) and row.required:
                    return False
            elif isinstance(row, Send):
                response = self.send(row)
                if row.save:
                    self.saved[row.save] = response
            elif isinstance(row, Race):
                self.saved[row.save] = self.race(row)
            elif isinstance(row, Wait):
                print(f"... waiting {self.ttl + 1} s for {row.what}")
                time.sleep(self.ttl + 1)
        return True

    def race(self, row):
        start = threading.Barrier(row.count)

        def one(_):
            start.wait()
            return send(self.base, row.method, self.fill(row.path))

        with ThreadPoolExecutor(row.count) as pool:
            return list(pool.map(one, range(row.count)))

    def case(self, row):
        r = self.saved[row.use] if row.use else self.send(row)
        if row.save:
            self.saved[row.save] = r
        reasons = []
        checks = list(row.checks)
        if row.ticket is not _UNSET:
            checks.insert(0, ticket(row.ticket))
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
