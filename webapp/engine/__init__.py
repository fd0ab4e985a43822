"""Runs only inside a worker process: evaluation, tracing, sampling, derivatives, descent, jobs.

Imports torch; the web process never imports this package (the pool runs it behind a pipe).
"""
