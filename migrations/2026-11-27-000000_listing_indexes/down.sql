DROP INDEX tickets_held_event_name_id_idx;
DROP INDEX tickets_event_name_status_id_idx;
DROP INDEX tickets_event_name_id_idx;
DROP INDEX tickets_held_id_idx;
DROP INDEX tickets_status_id_idx;
