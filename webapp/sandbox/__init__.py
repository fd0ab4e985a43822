"""The process boundary: the gate (caches, fairness, single-flight), the pool, the worker main.

Everything here but worker.py runs in the web process and never imports torch; worker.py is
the child side, which imports the engine.
"""
