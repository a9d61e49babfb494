DROP INDEX IF EXISTS model_contracts_contract_idx;
DROP TABLE IF EXISTS model_contracts;
