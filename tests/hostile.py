"""Hostile and malformed programs, by family, with the refusal each must get.

Each row: (family, source, inputs, expected kind, a piece of the message).
"""

DUNDER = [
    ("x.__class__", {"x": 1}, "unsupported", "underscore"),
    ("x.__class__.__mro__[1].__subclasses__()", {"x": 1}, "unsupported", "underscore"),
    ("().__class__.__bases__[0].__subclasses__()", {}, "unsupported", "underscore"),
    ("__import__('os').system('ls')", {}, "unsupported", "underscore"),
    ("__builtins__", {}, "unsupported", "underscore"),
    ("import os", {}, "unsupported", "`import os` is not part"),
    ("import subprocess\nsubprocess.run(['ls'])", {}, "unsupported", "`import subprocess`"),
    ("from os import system", {}, "unsupported", "`from os import"),
    ("import torch.hub", {}, "unsupported", "`import torch.hub`"),
    ("open('/etc/passwd').read()", {}, "unsupported", "`open()` is not a function of the language"),
    ("getattr(x, 'grad')", {"x": 1}, "unsupported", "`getattr()` is not a function of the language"),
    ("globals()", {}, "unsupported", "`globals()` is not a function of the language"),
    ("vars()", {}, "unsupported", "`vars()` is not a function of the language"),
    ("x._version", {"x": 1}, "unsupported", "underscore"),
    ("type(x)", {"x": 1}, "unsupported", "`type()` is not a function of the language"),
    ("breakpoint()", {}, "unsupported", "`breakpoint()` is not a function of the language"),
]

FORMAT_STRINGS = [
    ("f'{x}'", {"x": 1}, "unsupported", "f-strings"),
    ("f'{x.__class__}'", {"x": 1}, "unsupported", "f-strings"),
    ("'{0.__class__}'.format(x)", {"x": 1}, "unsupported", "`.format` is not available"),
    ("'%s' % x", {"x": 1}, "unsupported", "Tensors combine with numbers"),
    ("'%s' % 'a'", {}, "unsupported", "is not part of the function language"),
    ("'a' * 10**8", {}, "unsupported", "is not part of the function language"),
]

OBJECTS = [
    ("(t for t in range(3))", {}, "unsupported", "Generator expressions"),
    ("[t for t in range(3)]", {}, "unsupported", "List comprehensions"),
    ("lambda: 1", {}, "unsupported", "`lambda`"),
    ("class A:\n    pass", {}, "unsupported", "custom autograd functions"),
    ("class A(object):\n    pass", {}, "unsupported", "custom autograd functions"),
    ("@staticmethod\ndef g(x):\n    return x\ng(1)", {}, "unsupported", "Decorators"),
    ("def g():\n    yield 1\ng()", {}, "unsupported", "`yield`"),
    ("try:\n    y = 1\nexcept Exception as e:\n    y = e\ny", {}, "unsupported", "`try`"),
    ("raise ValueError('x')", {}, "unsupported", "`raise`"),
    ("async def g():\n    pass", {}, "unsupported", "`async def`"),
    ("{'a': 1}", {}, "unsupported", "Dictionaries"),
    ("global q\nq = 1", {}, "unsupported", "`global`"),
    ("del x", {"x": 1}, "unsupported", "`del`"),
    ("(y := 3)", {}, "unsupported", "`:=`"),
    ("x.grad_fn.next_functions", {"x": 1}, "unsupported", "not available here"),
    ("range(3).start", {}, "unsupported", "not available here"),
    ("print.function", {}, "unsupported", "not available here"),
]

MODULE_ATTRIBUTES = [
    ("torch.os", {}, "unsupported", "`torch.os` is not part"),
    ("torch.builtins", {}, "unsupported", "`torch.builtins` is not part"),
    ("torch.load('model.pt')", {}, "unsupported", "`torch.load` is not part"),
    ("torch.save(x, 'out.pt')", {"x": 1}, "unsupported", "`torch.save` is not part"),
    ("torch.from_file('/etc/passwd', size=10)", {}, "unsupported", "`torch.from_file` is not part"),
    ("torch.hub.load('a', 'b')", {}, "unsupported", "`torch.hub` is not part"),
    ("torch.ops.aten.add", {}, "unsupported", "`torch.ops` is not part"),
    ("torch.compile(x)", {"x": 1}, "unsupported", "`torch.compile` is not part"),
    ("x.numpy()", {"x": 1}, "unsupported", "`.numpy` is not available"),
    ("x.apply_(abs)", {"x": 1}, "unsupported", "`.apply_` is not available"),
    ("x.register_hook(print)", {"x": 1}, "unsupported", "`.register_hook` is not available"),
    ("x.untyped_storage()", {"x": 1}, "unsupported", "`.untyped_storage` is not available"),
    ("x.storage()", {"x": 1}, "unsupported", "`.storage` is not available"),
    ("torch.Storage", {}, "unsupported", "`torch.Storage` is not part"),
    ("torch.utils", {}, "unsupported", "`torch.utils` is not part"),
    ("torch.classes", {}, "unsupported", "`torch.classes` is not part"),
    ("torch.jit.script", {}, "unsupported", "`torch.jit` is not part"),
    ("math.sys", {}, "unsupported", "`math.sys` is not part"),
    ("torch.autograd.Function.apply", {}, "unsupported", "not available here"),
]

GLOBAL_STATE = [
    ("torch.set_default_dtype(torch.float64)", {}, "unsupported", "`torch.set_default_dtype` is not part"),
    ("torch.set_num_threads(64)", {}, "unsupported", "`torch.set_num_threads` is not part"),
    ("torch.tensor(1.0, device='cuda')", {}, "unsupported", "device='cuda'"),
    ("torch.zeros(3, device='meta')", {}, "unsupported", "device='meta'"),
    ("torch.add(x, x, out=x)", {"x": 1}, "unsupported", "`out=`"),
    ("torch.set_grad_enabled(False)", {}, "unsupported", "`torch.set_grad_enabled` is not part"),
    ("torch.use_deterministic_algorithms(True)", {}, "unsupported", "is not part"),
]

BOMBS = [
    ("2 ** 10 ** 10", {}, "limit", "too large"),
    ("10 ** 100000", {}, "limit", "too large"),
    ("x = 2\nfor i in range(20):\n    x = x * x\nx", {}, "limit", "integer is too large"),
    ("1 << 100000", {}, "unsupported", "`<<`"),
    ("[0] * 10**9", {}, "limit", "Lists are limited"),
    ("[[0.0] * 10000] * 10000", {}, "limit", "Lists are limited"),
    ("torch.tensor([[0.0] * 5000] * 5000)", {}, "limit", "Lists are limited"),
    ("torch.tensor([[0.0] * 5000] * 1000)", {}, "limit", "Lists are limited"),
    ("while True:\n    pass", {}, "limit", "would never end"),
    ("while 1:\n    y = 1", {}, "limit", "would never end"),
    ("for i in range(10**9):\n    pass", {}, "limit", "would turn 1,000,000,000 times"),
    # 200,000 turns take about 1 s; on a busy machine the 5 s deadline may come first, and
    # either sentence is the clear refusal (test_runaway_loops.py checks the budget's own).
    ("k = 0\nwhile k >= 0:\n    k = k + 1", {}, "limit", "loops ran more than|took longer than"),
    ("for i in range(10**9):\n    if i < 0:\n        break", {}, "limit",
     "loops ran more than|took longer than"),
    ("def f(n):\n    return f(n + 1)\nf(0)", {}, "limit", "deep"),
    ("def f(n):\n    return f(n) + f(n)\nf(1)", {}, "limit", "deep"),
    ("torch.empty(10**9)", {}, "limit", "larger than"),
    ("torch.zeros(100000, 100000)", {}, "limit", "larger than"),
    ("torch.ones(5000, 1) * torch.ones(1, 5000)", {}, "limit", "larger than"),
    ("torch.ones(3000, 3000) @ torch.ones(3000, 3000)", {}, "limit", "larger than"),
    ("x.expand(100000, 100000).sum()", {"x": [1.0]}, "limit", "larger than"),
    ("x.repeat(10**6, 10**4)", {"x": [1.0]}, "limit", "larger than"),
    ("torch.kron(x, x)", {"x": [1.0]}, "unsupported", "`torch.kron` is not part"),
    ("torch.combinations(x, 20)", {"x": [1.0]}, "unsupported", "`torch.combinations` is not part"),
    ("torch.arange(10**10)", {}, "limit", "larger than"),
    ("torch.linspace(0, 1, 10**9)", {}, "limit", "larger than"),
    ("torch.randn(10**5, 10**5)", {}, "limit", "larger than"),
    ("torch.outer(torch.ones(10**5), torch.ones(10**5))", {}, "limit", "larger than"),
    ("torch.cat([torch.ones(10**6)] * 5)", {}, "limit", "larger than"),
    ("y = torch.ones(1000000)\nfor i in range(100000):\n    y = y * 1.0001\ny.sum()", {}, "limit", "too many numbers"),
    ("list(range(10**9))", {}, "limit", "Lists are limited"),
    ("sum(range(10**9))", {}, "limit", "Lists are limited"),
    ("10.0 ** 10000", {}, "limit", "too large"),
    ("round(5, -10**9)", {}, "runtime", "at most 100 digits"),
    ("F.one_hot(torch.tensor([10**9]))", {}, "unsupported", "`torch.nn.functional.one_hot` is not part"),
]

PARSER = [
    ("-(" * 150 + "x" + ")" * 150, {"x": 1}, "limit", "nested too deeply"),
    ("(" * 400 + "x" + ")" * 400, {"x": 1}, "syntax", "too many nested parentheses"),
    ("-" * 900 + "x", {"x": 1}, "limit", "nested too deeply"),
    ("-" * 5000 + "x", {"x": 1}, "limit", "longer than 1,000"),
    ("x" + "+x" * 200000, {"x": 1}, "limit", "larger than 64 KiB"),
    ("x" + "+x" * 4000, {"x": 1}, "limit", "longer than 1,000"),
    ("y = x\n" * 1000 + "y", {"x": 1}, "limit", "more than 400 lines"),
    ("x = 1 # " + "a" * 100000, {}, "limit", "larger than 64 KiB"),
    (("# " + "a" * 900 + "\n") * 30 + "x", {"x": 1}, "limit", "longer than 20,000"),
    ("x = 1 # " + "a" * 5000, {}, "limit", "longer than 1,000"),
    ("x\x00 + 1", {"x": 1}, "syntax", "NUL"),
    ("\u0445 + 1", {}, "syntax", "not plain ASCII"),
    ("x1 \u2212 x2", {"x1": 1, "x2": 2}, "syntax", "did you mean -"),
    ("", {}, "syntax", "Type a function first"),
    ("   \n  \n", {}, "syntax", "Type a function first"),
    ("x +", {"x": 1}, "syntax", "Python cannot read"),
    ("def f(x):\nreturn x", {}, "syntax", "Python cannot read"),
    ("_secret = 1", {}, "unsupported", "underscore"),
    ("x[" * 300 + "0" + "]" * 300, {"x": 1}, "syntax", "too many nested parentheses"),
    ("x[" * 100 + "0" + "]" * 100, {"x": 1}, "limit", "nested too deeply"),
]

ALL = {"dunder/import/builtins": DUNDER, "format strings": FORMAT_STRINGS,
       "objects": OBJECTS, "module attributes": MODULE_ATTRIBUTES,
       "global state": GLOBAL_STATE, "bombs": BOMBS, "parser": PARSER}

ROWS = [(family, *row) for family, rows in ALL.items() for row in rows]
