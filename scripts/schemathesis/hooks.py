"""Schemathesis hooks for scripts/schemathesis.sh: steer generated ids onto what
scripts/schemathesis/seed.py seeded, so that fuzzed requests reach real rows and holds in
every state instead of answering 404 (or 401) for almost every random id.

- Ticket ids: most generated ids move onto the seeded tickets 1..50; ids up to 60 and one in
  four larger ones are kept as generated, so unknown ids are still exercised.
- Hold ids: three in four well-formed ones move onto a seeded hold (tentative, confirmed,
  expired, lapsed or released); malformed ones are kept, so they still reach the 400.
- Hold-Token: three in four valid requests on a seeded hold, or on a seeded ticket that
  has one, carry that hold's token, so fuzzing reaches past 401 and 403; the others keep the
  generated header (or none), which must still be refused. Holds that fuzzed requests place
  (any 201 with a hold_token) join the seeded ones, so a ticket released and held again
  can still be acted on.
The choices are a function of the generated values (a CRC), not of a random draw, so that
hypothesis replays and shrinks a case to the same request.

The seeded holds come from the JSON file named by $SEEDED_HOLDS (seed.py writes it); without
it only ticket ids are steered.
"""

import json
import os
import uuid
import zlib

import schemathesis

SEEDED = 50


def _load_holds():
    path = os.environ.get("SEEDED_HOLDS")
    if not path:
        return []
    with open(path, encoding="utf-8") as seeded:
        return json.load(seeded)["holds"]


HOLDS = []
TOKEN_OF_HOLD = {}
# A ticket's latest hold; a released one no longer counts, but its token is still worth
# sending: it must not act on the ticket's next hold.
TOKEN_OF_TICKET = {}


def _remember(hold_id, token, ticket_ids):
    HOLDS.append({"hold_id": hold_id, "hold_token": token, "ticket_ids": ticket_ids})
    TOKEN_OF_HOLD[hold_id] = token
    for ticket_id in ticket_ids:
        TOKEN_OF_TICKET[ticket_id] = token


for _seeded in _load_holds():  # in the order seed.py placed them
    _remember(_seeded["hold_id"], _seeded["hold_token"], _seeded["ticket_ids"])


def _choice(value, n):
    """A number in 0..n-1 fixed by the value."""
    return zlib.crc32(repr(value).encode()) % n


def _is_uuid(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    # Operations without path parameters get None; negative cases may be any value.
    if not isinstance(path_parameters, dict):
        return path_parameters
    ticket_id = path_parameters.get("id")
    # bool is an int in Python; only real integers beyond the seeded range are moved.
    if (
        isinstance(ticket_id, int)
        and not isinstance(ticket_id, bool)
        and ticket_id > SEEDED + 10
        and ticket_id % 4 != 0
    ):
        path_parameters["id"] = ticket_id % SEEDED + 1
    return path_parameters


def _declares_hold_token(operation):
    return any(parameter.name.lower() == "hold-token" for parameter in operation.iter_parameters())


# Hold ids and tokens are set just before the call rather than at generation: the examples
# and coverage phases send the document's example hold id, which no generation hook sees.
@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    # In the stateful phase the ids and tokens come from the API's own answers (links).
    if meta is None or meta.phase.name == "stateful":
        return
    parameters = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    hold_id = parameters.get("hold_id")
    from_pool = any(draw.parameter_name == "hold_id" for draw in meta.pool_draws)
    if HOLDS and not from_pool and _is_uuid(hold_id) and hold_id not in TOKEN_OF_HOLD and _choice(hold_id, 4) != 0:
        parameters = {**parameters, "hold_id": HOLDS[_choice(hold_id[::-1], len(HOLDS))]["hold_id"]}
        case.path_parameters = parameters
    # Only valid requests get a token: in a negative case the header may be the very thing
    # made invalid, and a real token there would turn a request the server must refuse into
    # one it accepts.
    if not meta.generation.mode.is_positive or not _declares_hold_token(case.operation):
        return
    token = TOKEN_OF_HOLD.get(parameters.get("hold_id")) or TOKEN_OF_TICKET.get(parameters.get("id"))
    if token is None or _choice((parameters, case.headers), 4) == 0:
        return
    headers = {name: value for name, value in (case.headers or {}).items() if name.lower() != "hold-token"}
    headers["Hold-Token"] = token
    case.headers = headers


@schemathesis.hook
def after_call(context, case, response):
    # The holds fuzzing places join the seeded ones: without their tokens, a seeded ticket
    # released and held again by a fuzzed request could never be acted on again.
    if response.status_code != 201:
        return
    try:
        body = json.loads(response.content)
    except (TypeError, ValueError):
        return
    if not isinstance(body, dict):
        return
    if isinstance(body.get("hold"), dict):  # a single-ticket reservation
        placed, ticket_ids = body["hold"], [body.get("id")]
    else:
        placed = body
        ticket_ids = [t.get("id") for t in body.get("tickets") or () if isinstance(t, dict)]
    if isinstance(placed.get("hold_id"), str) and isinstance(placed.get("hold_token"), str):
        _remember(placed["hold_id"], placed["hold_token"], ticket_ids)

