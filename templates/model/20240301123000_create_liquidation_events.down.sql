-- {{ model }}: undo create_liquidation_events
DROP INDEX IF EXISTS liquidation_events_liquidator_idx;
DROP INDEX IF EXISTS liquidation_events_block_idx;
DROP INDEX IF EXISTS liquidation_events_position_idx;
DROP TABLE IF EXISTS liquidation_events;
