"""What teaches, added to a trace: names, the evaluation tape, explain sentences, guards, steps.

Plain data in, plain data out: no torch, no flask, so the worker, the drawings and the web
process all read it.
"""
