"""The languages a student writes in: Python (read by chainrule's own interpreter, or opened for CPython) and R (translated to Python)."""
