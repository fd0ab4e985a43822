"""Stretches of torch bookkeeping that a job's deadline must not cut in two.

The worker's deadline is a signal, raised between any two bytecodes. Cut inside the
tracer's copy step (a dispatch mode set aside, torch functions off, autograd off), the job
would leave the process switched that way, and the worker would have to be replaced
(worker.torch_state_is_fresh). Inside a stretch the deadline waits until it ends.
"""
depth = 0  # how many stretches are open; only the job's own thread changes it
