# source: fastai/fastbook clean/04_mnist_basics.ipynb @098e12df ("An End-to-End SGD Example" cells) (what was changed: fastai star-imports replaced by `import torch`, plt/show_preds plotting cells dropped, torch.manual_seed(0) added, cells concatenated, the published cell `preds = f(time,params)` / `mse(preds, speed)` repeated at the end as the final expression)
import torch

torch.manual_seed(0)

time = torch.arange(0,20).float(); time

speed = torch.randn(20)*3 + 0.75*(time-9.5)**2 + 1

def f(t, params):
    a,b,c = params
    return a*(t**2) + (b*t) + c

def mse(preds, targets): return ((preds-targets)**2).mean()

params = torch.randn(3).requires_grad_()

#hide
orig_params = params.clone()

preds = f(time, params)

loss = mse(preds, speed)
loss

loss.backward()
params.grad

params.grad * 1e-5

params

lr = 1e-5
params.data -= lr * params.grad.data
params.grad = None

preds = f(time,params)
mse(preds, speed)

def apply_step(params, prn=True):
    preds = f(time, params)
    loss = mse(preds, speed)
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    if prn: print(loss.item())
    return preds

for i in range(10): apply_step(params)

preds = f(time,params)
mse(preds, speed)
