"""Developer tools: a real local ZooKeeper and a partitioning TCP proxy, for tests and demos.

Nothing in the product imports this package; tests and shell demos do.
"""
