-- blub_test: undo create_positions_and_trades
DROP INDEX IF EXISTS trades_position_idx;
DROP INDEX IF EXISTS trades_market_idx;
DROP INDEX IF EXISTS trades_account_idx;
DROP INDEX IF EXISTS trades_block_idx;
DROP TABLE IF EXISTS trades;
DROP INDEX IF EXISTS positions_opened_tx_idx;
DROP INDEX IF EXISTS positions_market_idx;
DROP INDEX IF EXISTS positions_account_idx;
DROP TABLE IF EXISTS positions;
