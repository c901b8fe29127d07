#!/usr/bin/env python3
"""Seeds the service scripts/schemathesis.sh fuzzes, through its API, and records every hold
it placed (id, token, state, tickets) in a JSON file that hooks.py reads, so that fuzzed
requests can name seeded holds and carry their tokens.

Usage: seed.py lapsing BASE_URL HOLDS_JSON   against a server with a 1 s TTL (writes HOLDS_JSON)
       seed.py live BASE_URL HOLDS_JSON      against a server with a TTL longer than the run
                                             (adds to HOLDS_JSON)

Tickets 1..50 ("Schemathesis night N", seat S-N), in these states at the end:
  lapsing (1 s TTL, then waited out):
    31..38  EXPIRED: reserved, then confirmed with their token after the lapse (written EXPIRED)
    39..45  lapsed TENTATIVE rows (read EXPIRED): reserved and left
    47, 48  EXPIRED: one hold of both, confirmed with its token after the lapse
  live:
    1..10   held (single-ticket reservations)      11..20  sold (reserved, confirmed)
    21, 22  held together (POST /api/holds)         23, 24  sold together
    25, 26  released together (their hold is gone) 27      held by best available
    46      released (single ticket)
    28..30, 49, 50 never reserved
After "live" it prints how many holds of each state it placed. Exits 1, saying which
request, when the service answers anything unexpected.
"""
import http.client
import json
import sys
import time
import urllib.parse

SEEDED = 50


class Seeder:
    def __init__(self, base_url):
        self.base = urllib.parse.urlsplit(base_url)
        self.holds = []

    def call(self, method, path, expected, body=None, token=None):
        """One request; its JSON body when it answered `expected`, else exits."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token is not None:
            headers["Hold-Token"] = token
        connection = http.client.HTTPConnection(self.base.netloc, timeout=15)
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        if response.status != expected:
            sys.exit(f"seed.py: {method} {path} answered {response.status}, expected {expected}: {raw[:300]!r}")
        return json.loads(raw)

    def record(self, state, placed, ticket_ids):
        """Keeps a hold: `placed` is a hold's 201 or the "hold" of a reservation's 201."""
        self.holds.append({"hold_id": placed["hold_id"], "hold_token": placed["hold_token"],
                           "state": state, "ticket_ids": ticket_ids})
        return placed

    def reserve(self, ticket_id, state):
        return self.record(state, self.call("POST", f"/api/tickets/{ticket_id}/reservation", 201)["hold"],
                           [ticket_id])

    def hold(self, ticket_ids, state):
        return self.record(state, self.call("POST", "/api/holds", 201, {"ticket_ids": ticket_ids}), ticket_ids)

    def lapsing(self):
        for ticket_id in range(1, SEEDED + 1):
            self.call("POST", "/api/tickets", 201, {"event_name": f"Schemathesis night {ticket_id}",
                                                    "seat": f"S-{ticket_id}"})
        expiring = [self.reserve(ticket_id, "expired") for ticket_id in range(31, 39)]
        for ticket_id in range(39, 46):
            self.reserve(ticket_id, "lapsed")
        pair = self.hold([47, 48], "expired")
        time.sleep(1.2)
        for ticket_id, placed in zip(range(31, 39), expiring):
            self.call("POST", f"/api/tickets/{ticket_id}/confirm", 409, token=placed["hold_token"])
        self.call("POST", f"/api/holds/{pair['hold_id']}/confirm", 409, token=pair["hold_token"])

    def live(self):
        for ticket_id in range(1, 11):
            self.reserve(ticket_id, "tentative")
        for ticket_id in range(11, 21):
            placed = self.reserve(ticket_id, "confirmed")
            self.call("POST", f"/api/tickets/{ticket_id}/confirm", 200, token=placed["hold_token"])
        placed = self.reserve(46, "released")
        self.call("DELETE", "/api/tickets/46/reservation", 200, token=placed["hold_token"])
        self.hold([21, 22], "tentative")
        placed = self.hold([23, 24], "confirmed")
        self.call("POST", f"/api/holds/{placed['hold_id']}/confirm", 200, token=placed["hold_token"])
        placed = self.hold([25, 26], "released")
        self.call("DELETE", f"/api/holds/{placed['hold_id']}", 200, token=placed["hold_token"])
        placed = self.call("POST", "/api/holds", 201, {"event_name": "Schemathesis night 27", "quantity": 1})
        self.record("tentative", placed, [27])


def main(argv):
    if len(argv) != 3 or argv[0] not in ("lapsing", "live"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    phase, base_url, path = argv
    seeder = Seeder(base_url)
    if phase == "live":
        with open(path, encoding="utf-8") as earlier:
            seeder.holds = json.load(earlier)["holds"]
    getattr(seeder, phase)()
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"holds": seeder.holds}, out, indent=1)
    if phase == "live":
        states = {}
        for placed in seeder.holds:
            states[placed["state"]] = states.get(placed["state"], 0) + 1
        print(f"seeded tickets 1..{SEEDED} and {len(seeder.holds)} holds ("
              + ", ".join(f"{n} {state}" for state, n in sorted(states.items())) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
