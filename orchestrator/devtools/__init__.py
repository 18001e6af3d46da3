"""Developer tools: a real local ZooKeeper, a partitioning TCP proxy and a collector process,
for tests and demos.

Nothing in the product imports this package; tests and shell demos do.
"""
