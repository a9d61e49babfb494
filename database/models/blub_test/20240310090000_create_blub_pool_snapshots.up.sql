-- blub_test only: hourly snapshots of the blub pools this model tracks. The
-- other models do not index pools, so this lives in the model's own folder,
-- not in templates/model.

CREATE TABLE blub_pool_snapshots (
    pool          TEXT           NOT NULL,
    hour          TIMESTAMP      NOT NULL,
    reserve0      NUMERIC(78, 0) NOT NULL,
    reserve1      NUMERIC(78, 0) NOT NULL,
    block_number  BIGINT         NOT NULL,
    PRIMARY KEY (pool, hour)
);

CREATE INDEX blub_pool_snapshots_block_idx ON blub_pool_snapshots (block_number);
