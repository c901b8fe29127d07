-- Indexes for listing tickets page by page (GET /api/tickets): each filter is read in id
-- order from `id > $after`, so a page costs the same however deep it is.
--   no filter                 -> the primary key
--   status                    -> (reservation_status, id): one stored status is one id range;
--                                a rare status (or a rare available) is a bitmap of it
--   status=tentative          -> (id) of active holds: the planner underestimates how many
--                                holds are active (status and expiry are correlated) and,
--                                without it, sorts every active hold for each page
--   event_name                -> (event_name, id)
--   event_name and status     -> (event_name, reservation_status, id), and for tentative
--                                (event_name, id) of active holds, for the same reason
-- docs/listing-indexes.md shows the plans on 1,000,000 tickets.
CREATE INDEX tickets_status_id_idx ON tickets (reservation_status, id);
-- "expires after -infinity" holds for every hold, but only a query that bounds the expiry
-- from below (active holds: `reservation_expires_at > $now`) can be proved to match it.
-- The sweeper's query (`reservation_expires_at <= $now`) cannot, so it keeps its own
-- index, tickets_tentative_expires_at_idx; with a plain `WHERE reservation_status =
-- 'TENTATIVE'` here, the sweeper was planned as a scan of every hold plus a sort.
CREATE INDEX tickets_held_id_idx ON tickets (id)
    WHERE reservation_status = 'TENTATIVE' AND reservation_expires_at > '-infinity';
CREATE INDEX tickets_event_name_id_idx ON tickets (event_name, id);
CREATE INDEX tickets_event_name_status_id_idx ON tickets (event_name, reservation_status, id);
CREATE INDEX tickets_held_event_name_id_idx ON tickets (event_name, id)
    WHERE reservation_status = 'TENTATIVE' AND reservation_expires_at > '-infinity';
