"""What teaches, added to a trace: names, the evaluation tape, explain sentences, guards, steps.

No torch, no flask, so the worker, the drawings and the web process all read it. In the
worker the lesson fills the `Trace` model (annotate.add_lesson, steps.trace_steps) before its
one JSON; on the web side it reads that JSON (practice, captions, tape_view).
"""
