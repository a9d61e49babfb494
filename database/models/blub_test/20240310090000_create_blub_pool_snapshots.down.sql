-- blub_test only: undo create_blub_pool_snapshots

DROP TABLE blub_pool_snapshots;
