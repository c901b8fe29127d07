-- Indexes for listing tickets page by page (GET /api/tickets): each filter is read in id
-- order from `id > $after`, so a page costs the same however deep it is.
--   no filter                 -> the primary key
--   status                    -> (reservation_status, id): one status is one id-ordered range
--   event_name                -> (event_name, id)
--   event_name and status     -> (event_name, reservation_status, id)
-- A status filter spanning several stored statuses (available, expired) is answered from
-- the primary key, or from these indexes through a bitmap when its tickets are few.
-- docs/listing-indexes.md shows the plans on 1,000,000 tickets.
CREATE INDEX tickets_status_id_idx ON tickets (reservation_status, id);
CREATE INDEX tickets_event_name_id_idx ON tickets (event_name, id);
CREATE INDEX tickets_event_name_status_id_idx ON tickets (event_name, reservation_status, id);
