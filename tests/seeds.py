"""The seed documents' examples, translated to Python, shared by the test modules."""

SEED001_QUADRATIC = """x1 = torch.tensor(2.0, requires_grad=True)
x2 = torch.tensor(2.0, requires_grad=True)
x3 = x1.square(); x5 = x3 * 0.2
x4 = x2.square(); x6 = x4 * 0.2
x7 = x5 + x6 - 5"""

SEED001_EXPRESSION = "0.2*x1**2 + 0.2*x2**2 - 5"

SEED001_ROSENBROCK = """a = 1
b = 5

def rosenbrock(x):
    x1 = x[0]
    x2 = x[1]
    return (a - x1)**2 + b * (x2 - x1**2)**2

rosenbrock(x)"""

SEED001_DESCENT = """a = 1
b = 5

def rosenbrock(x):
    x1 = x[0]
    x2 = x[1]
    return (a - x1)**2 + b * (x2 - x1**2)**2

num_iterations = 1000
lr = 0.01
x = torch.tensor([-1.0, 1.0], requires_grad=True)
for i in range(1, num_iterations + 1):
    value = rosenbrock(x)
    if i % 100 == 0:
        print("Iteration:", i, "Value is:", value.item())
    value.backward()
    with torch.no_grad():
        x.sub_(lr * x.grad)
        x.grad.zero_()
x"""

SEED004_HELPERS = """def square(w):
    return w * w

def double(w):
    return 2 * w

def f(w1, w2):
    return double(w1) + square(w2) + 5.0

f(w1, w2)"""

SEED003_DOT = """x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y"""

SEED003_CONTROL_FLOW = """def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c

d = f(a)
d.sum()"""

SEED003_LOG_SIN = "log(x**2)*sin(x) + 1/x"

SEED003_RETAIN = """x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward(retain_graph=True)
y.backward()
x.grad"""

SEED003_NODES = """torch.manual_seed(713)
x = torch.randn(size=(), requires_grad=True)
n1, n3, n5 = 1 / x, torch.sin(x), x ** 2
n4 = torch.log(n5)
n2 = n3 * n4
y = n1 + n2
y"""

SEED003_SIN_GRID = """x = torch.arange(-math.pi, math.pi, 0.1, requires_grad=True)
y = torch.sin(x)
y.sum().backward()
x.grad"""

SEED003_LOG10 = """def f(x):
    return ((torch.log10(x ** 2)) * torch.sin(x)) + (x ** -1)

x = torch.linspace(0.1, 10, 100)
x.requires_grad_(True)
y = f(x)
y.backward(torch.ones_like(y))
x.grad"""

MY_RELU = """class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input

"""

SEED000_RELU_EXERCISE = MY_RELU + "MyReLU.apply(x).sum()"

SEED002_DATA = """N, D_in, H, D_out = 64, 1000, 100, 10
x = torch.randn(N, D_in)
y = torch.randn(N, D_out)
w1 = torch.randn(D_in, H, requires_grad=True)
w2 = torch.randn(H, D_out, requires_grad=True)
"""

SEED002_NETWORK = MY_RELU + SEED002_DATA + """y_pred = MyReLU.apply(x.mm(w1)).mm(w2)
loss = (y_pred - y).pow(2).sum()
loss"""

SEED001_REGRESSION = """torch.manual_seed(1)
b0, b1, n = 1.0, 1.0, 200
x = torch.rand(n) * 2
y = b0 + b1 * x + torch.randn(n) * 0.25
beta = torch.zeros(2, requires_grad=True)
lr = 0.1
for step in range(500):
    loss = ((beta[0] + beta[1] * x - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        beta.sub_(lr * beta.grad)
        beta.grad.zero_()
beta"""

SEED002_TRAINING = MY_RELU + SEED002_DATA + """learning_rate = 1e-6
for t in range(500):
    y_pred = MyReLU.apply(x.mm(w1)).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
loss"""
