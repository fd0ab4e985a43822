# source: d2l-ai/d2l-en chapter_multilayer-perceptrons/weight-decay.md @v0.17.6 (pytorch tab, "from scratch" part) (what was changed: d2l import replaced by an inline `class d2l` holding ones/synthetic_data/load_array/linreg/squared_loss/sgd/evaluate_loss (copied from d2l/torch.py, evaluate_loss without Accumulator) and a no-op Animator stub (plotting dropped), torch.manual_seed(0) added, num_epochs cut from 100 to 5 (20 steps per train call), concise part dropped, final expression `l2_penalty(init_params()[0])` appended)
import torch
from torch import nn
from torch.utils import data


class d2l:  # inline stand-in for `from d2l import torch as d2l`
    ones = torch.ones
    def synthetic_data(w, b, num_examples):
        X = torch.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += torch.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))
    def load_array(data_arrays, batch_size, is_train=True):
        dataset = data.TensorDataset(*data_arrays)
        return data.DataLoader(dataset, batch_size, shuffle=is_train)
    def linreg(X, w, b):
        return torch.matmul(X, w) + b
    def squared_loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()
    def evaluate_loss(net, data_iter, loss):
        total, count = 0.0, 0
        for X, y in data_iter:
            out = net(X)
            l = loss(out, y.reshape(out.shape))
            total, count = total + float(l.sum()), count + l.numel()
        return total / count
    class Animator:  # plotting dropped
        def __init__(self, **kwargs): pass
        def add(self, x, y): pass


torch.manual_seed(0)

n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5
true_w, true_b = d2l.ones((num_inputs, 1)) * 0.01, 0.05
train_data = d2l.synthetic_data(true_w, true_b, n_train)
train_iter = d2l.load_array(train_data, batch_size)
test_data = d2l.synthetic_data(true_w, true_b, n_test)
test_iter = d2l.load_array(test_data, batch_size, is_train=False)

def init_params():
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]

def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2

def train(lambd):
    w, b = init_params()
    net, loss = lambda X: d2l.linreg(X, w, b), d2l.squared_loss
    num_epochs, lr = 5, 0.003
    animator = d2l.Animator(xlabel='epochs', ylabel='loss', yscale='log',
                            xlim=[5, num_epochs], legend=['train', 'test'])
    for epoch in range(num_epochs):
        for X, y in train_iter:
            # The L2 norm penalty term has been added, and broadcasting
            # makes `l2_penalty(w)` a vector whose length is `batch_size`
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            d2l.sgd([w, b], lr, batch_size)
        if (epoch + 1) % 5 == 0:
            animator.add(epoch + 1, (d2l.evaluate_loss(net, train_iter, loss),
                                     d2l.evaluate_loss(net, test_iter, loss)))
    print('L2 norm of w:', torch.norm(w).item())

train(lambd=0)

train(lambd=3)
l2_penalty(init_params()[0])
