-- {{ model }}: undo create_transaction_processing
DROP INDEX IF EXISTS transaction_processing_processed_at_idx;
DROP INDEX IF EXISTS transaction_processing_status_idx;
DROP TABLE IF EXISTS transaction_processing;
