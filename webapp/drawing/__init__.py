"""Plain data in, bytes out: DOT and SVG filling, the layout service, plots, themes, handouts.

No torch. Matplotlib (plots.py) is imported only by the worker and the CLI.
"""
