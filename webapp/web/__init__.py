"""Thin blueprints: parse the request, call one function, render a template or JSON."""
