DROP INDEX IF EXISTS tokens_symbol_idx;
DROP TABLE IF EXISTS tokens;
DROP INDEX IF EXISTS contracts_name_idx;
DROP TABLE IF EXISTS contracts;
