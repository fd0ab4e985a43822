"""The loops running now, innermost last, as [loop node, turns so far].

A job stopped at its deadline says which loop it was in: the worker's signal handler reads
this list (without torch, which is why it lives on its own). One job runs at a time in a
worker, and the worker empties the list before each job.
"""
ACTIVE_LOOPS: list[list] = []
