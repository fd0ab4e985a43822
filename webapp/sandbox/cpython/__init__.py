"""Real CPython for programs chainrule's interpreter does not speak (runner.py), run only
where permission.py allows: a confined worker child, or a trusted owner's own process."""
from .permission import allowed_here  # noqa: F401
